package podexec

import (
	"strings"
	"unicode/utf8"
)

// Expand replaces $(VAR) references in s the way Kubernetes expands command,
// args and env values: $(NAME) becomes vars[NAME] when defined and stays as
// written when not, $$ is a literal $, and any other $ is kept as it is.
func Expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	checkpoint := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			continue
		}
		b.WriteString(s[checkpoint:i])
		text, advance := readReference(s[i+1:], vars)
		b.WriteString(text)
		i += advance
		checkpoint = i + 1
	}
	b.WriteString(s[checkpoint:])
	return b.String()
}

// readReference reads what follows a '$': it returns the text to write and
// how many bytes it consumed.
func readReference(rest string, vars map[string]string) (string, int) {
	r, size := utf8.DecodeRuneInString(rest)
	switch r {
	case '$':
		return "$", size
	case '(':
		end := strings.IndexByte(rest[1:], ')')
		if end < 0 {
			return "$(", 1
		}
		name := rest[1 : 1+end]
		if v, ok := vars[name]; ok {
			return v, end + 2
		}
		return "$(" + name + ")", end + 2
	default:
		return "$" + rest[:size], size
	}
}
