package manifests

import (
	"math"
	"slices"
	"strconv"
	"strings"

	yamlv2 "go.yaml.in/yaml/v2"
)

// fastYAML reads the plain subset of YAML that almost every manifest uses
// (block mappings and sequences, plain and simply-quoted scalars, one-line
// flow sequences and mappings of scalars, comments) several times faster
// than goyaml.v2. On anything else (anchors, tags, block scalars, escapes,
// multi-line scalars, duplicate keys, tabs, odd indentation, ...) it gives
// up and the caller uses goyaml.v2, so results never differ:
// FuzzFastYAML checks that it agrees with yamlToObject whenever it answers.
// Scalars are resolved with YAML 1.1 rules: anything that is not clearly a
// string or a small decimal integer is resolved by goyaml.v2 itself.
func fastYAML(data []byte) (map[string]interface{}, bool) {
	for _, c := range data {
		if (c < 0x20 && c != '\n') || c >= 0x7f {
			return nil, false // non-ASCII and control characters: goyaml.v2 decides
		}
	}
	return fastParse(data, nil)
}

// fastParse parses data; rec, when set, gets the path and line of every
// mapping key and sequence item.
func fastParse(data []byte, rec func(path string, line int)) (map[string]interface{}, bool) {
	p := fastParser{lines: splitLines(data), rec: rec}
	if p.lines == nil {
		return nil, false
	}
	first := p.lines[0]
	if first.indent != 0 || isSeqItem(first.text) {
		return nil, false
	}
	v, i := p.mapping(0, 0, "")
	m, ok := v.(map[string]interface{})
	if p.bad || i != len(p.lines) || !ok {
		return nil, false
	}
	return m, true
}

type fastLine struct {
	indent int
	num    int // 1-based line number in the document
	text   string
}

type fastParser struct {
	lines []fastLine
	bad   bool
	rec   func(path string, line int)
}

// child returns path.key when paths are recorded, else "".
func (p *fastParser) child(path, key string) string {
	if p.rec == nil {
		return ""
	}
	return joinPath(path, key)
}

// splitLines keeps the content lines (no blank or comment-only lines);
// nil when a line has a tab in its indentation or a document marker. The
// document is copied into one string that every line (and every scalar
// parsed from it) shares, instead of one allocation per line.
func splitLines(data []byte) []fastLine {
	s := string(data)
	out := make([]fastLine, 0, strings.Count(s, "\n")+1)
	num := 0
	for len(s) > 0 {
		num++
		var line string
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			line, s = s[:i], s[i+1:]
		} else {
			line, s = s, ""
		}
		line = strings.TrimRight(line, " \r")
		ind := 0
		for ind < len(line) && line[ind] == ' ' {
			ind++
		}
		rest := line[ind:]
		if len(rest) == 0 || rest[0] == '#' {
			continue
		}
		if rest[0] == '\t' || strings.HasPrefix(line, "---") || strings.HasPrefix(line, "...") || strings.IndexByte(rest, '\t') >= 0 {
			return nil
		}
		out = append(out, fastLine{indent: ind, num: num, text: rest})
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func isSeqItem(s string) bool { return s == "-" || strings.HasPrefix(s, "- ") }

// block parses the node starting at line i (indent ind).
func (p *fastParser) block(i, ind int, path string) (interface{}, int) {
	if isSeqItem(p.lines[i].text) {
		return p.sequence(i, ind, path)
	}
	return p.mapping(i, ind, path)
}

func (p *fastParser) mapping(i, ind int, path string) (interface{}, int) {
	m := map[string]interface{}{}
	for i < len(p.lines) && !p.bad {
		l := p.lines[i]
		if l.indent < ind {
			break
		}
		if l.indent > ind || isSeqItem(l.text) {
			p.bad = true
			break
		}
		k, rest, ok := splitKey(l.text)
		if !ok {
			p.bad = true
			break
		}
		if _, dup := m[k]; dup {
			p.bad = true
			break
		}
		kp := p.child(path, k)
		if p.rec != nil {
			p.rec(kp, l.num)
		}
		var v interface{}
		v, i = p.value(rest, i, ind, true, kp)
		m[k] = v
	}
	return m, i
}

// value parses what follows "key:" or "- " on line i and any nested block.
func (p *fastParser) value(rest string, i, ind int, inMap bool, path string) (interface{}, int) {
	next := i + 1
	if rest != "" {
		if next < len(p.lines) && p.lines[next].indent > ind {
			p.bad = true // a multi-line scalar or odd indentation
		}
		v, ok := inlineValue(rest)
		if !ok {
			p.bad = true
		}
		if p.rec != nil {
			p.recordFlow(path, v, p.lines[i].num)
		}
		return v, next
	}
	if next < len(p.lines) {
		nl := p.lines[next]
		if nl.indent > ind {
			return p.block(next, nl.indent, path)
		}
		if inMap && nl.indent == ind && isSeqItem(nl.text) {
			return p.sequence(next, ind, path)
		}
	}
	return nil, next
}

// recordFlow records the items of a one-line flow collection (all on line).
func (p *fastParser) recordFlow(path string, v interface{}, line int) {
	switch t := v.(type) {
	case map[string]interface{}:
		for k := range t {
			p.rec(p.child(path, k), line)
		}
	case []interface{}:
		for i := range t {
			p.rec(path+"["+strconv.Itoa(i)+"]", line)
		}
	}
}

func (p *fastParser) sequence(i, ind int, path string) (interface{}, int) {
	a := []interface{}{}
	for i < len(p.lines) && !p.bad {
		l := p.lines[i]
		if l.indent < ind || (l.indent == ind && !isSeqItem(l.text)) {
			break
		}
		if l.indent > ind {
			p.bad = true
			break
		}
		item := strings.TrimLeft(strings.TrimPrefix(l.text, "-"), " ")
		itemInd := ind + len(l.text) - len(item)
		ip := ""
		if p.rec != nil {
			ip = path + "[" + strconv.Itoa(len(a)) + "]"
			p.rec(ip, l.num)
		}
		var v interface{}
		switch {
		case item == "":
			v, i = p.value("", i, ind, false, ip)
		case isSeqItem(item) || strings.HasPrefix(item, "#"):
			p.bad = true
		case isMappingEntry(item):
			// "- key: value": a mapping whose first key is on this line.
			p.lines[i] = fastLine{indent: itemInd, num: l.num, text: item}
			v, i = p.mapping(i, itemInd, ip)
		default:
			v, i = p.value(item, i, ind, false, ip)
		}
		a = append(a, v)
	}
	return a, i
}

func isMappingEntry(s string) bool {
	if s == "" || strings.ContainsRune("\"'[{", rune(s[0])) {
		return false
	}
	_, _, ok := splitKey(s)
	return ok
}

// splitKey splits "key: rest" (or "key:"); ok is false when the line is
// not a simple mapping entry.
func splitKey(s string) (string, string, bool) {
	i := strings.Index(s, ": ")
	if i < 0 {
		if !strings.HasSuffix(s, ":") {
			return "", "", false
		}
		i = len(s) - 1
	}
	k := s[:i]
	if k == "" || len(k) > 1000 || strings.HasSuffix(k, " ") || strings.Contains(k, " #") || strings.ContainsAny(k[:1], "\"'[]{}&*!|>%@`?#,-:") {
		return "", "", false
	}
	rest := ""
	if i+2 <= len(s) {
		rest = strings.TrimLeft(s[i+2:], " ")
	}
	key, ok := resolveKey(k)
	return key, rest, ok
}

// inlineValue parses a scalar or a one-line flow collection of scalars.
func inlineValue(s string) (interface{}, bool) {
	if s == "" {
		return nil, false
	}
	switch s[0] {
	case '[':
		return flow(s, '[', ']')
	case '{':
		return flow(s, '{', '}')
	case '"', '\'':
		q, rest, ok := quoted(s)
		if !ok || (rest != "" && !strings.HasPrefix(rest, " #")) {
			return nil, false
		}
		return q, true
	}
	if i := strings.Index(s, " #"); i >= 0 {
		s = strings.TrimRight(s[:i], " ")
	}
	if s == "" || strings.Contains(s, ": ") || strings.HasSuffix(s, ":") || strings.ContainsAny(s[:1], "&*!|>%@`?#,[]{}") {
		return nil, false
	}
	return resolvePlain(s)
}

// quoted reads a quoted scalar without escapes; rest is what follows it.
func quoted(s string) (string, string, bool) {
	end := strings.IndexByte(s[1:], s[0])
	if end < 0 {
		return "", "", false
	}
	body := s[1 : end+1]
	if strings.ContainsAny(body, "\\") || (s[0] == '\'' && strings.HasPrefix(s[end+2:], "'")) {
		return "", "", false
	}
	return body, strings.TrimLeft(s[end+2:], " "), true
}

// flow parses "[a, "b", 3]" or "{k: v, k2: v2}" holding only scalars.
func flow(s string, open, close byte) (interface{}, bool) {
	if i := strings.LastIndexByte(s, close); i < 0 || strings.TrimSpace(s[i+1:]) != "" && !strings.HasPrefix(strings.TrimSpace(s[i+1:]), "#") {
		return nil, false
	} else {
		s = s[1:i]
	}
	if strings.ContainsAny(s, "[]{}#\\") || strings.HasSuffix(strings.TrimSpace(s), ",") {
		return nil, false
	}
	var items []string
	for len(strings.TrimSpace(s)) > 0 {
		s = strings.TrimLeft(s, " ")
		if s[0] == '"' || s[0] == '\'' {
			_, rest, ok := quoted(s)
			if !ok || (rest != "" && rest[0] != ',') {
				return nil, false
			}
			items = append(items, s[:len(s)-len(rest)])
			s = strings.TrimPrefix(rest, ",")
			continue
		}
		j := strings.IndexByte(s, ',')
		if j < 0 {
			j = len(s)
		}
		it := strings.TrimSpace(s[:j])
		if open == '[' && strings.Contains(it, ":") {
			return nil, false
		}
		items = append(items, it)
		s = s[min(j+1, len(s)):]
	}
	if open == '[' {
		a := make([]interface{}, 0, len(items))
		for _, it := range items {
			v, ok := flowScalar(it)
			if !ok {
				return nil, false
			}
			a = append(a, v)
		}
		return a, true
	}
	m := make(map[string]interface{}, len(items))
	for _, it := range items {
		k, rest, ok := splitKey(it)
		if _, dup := m[k]; !ok || dup || rest == "" {
			return nil, false
		}
		v, ok := flowScalar(rest)
		if !ok {
			return nil, false
		}
		m[k] = v
	}
	return m, true
}

// flowScalar reads one item of a flow collection: a quoted scalar or a
// plain one made only of letters, digits, spaces and "._/-" (not starting
// with "-" or a space); anything else is left to goyaml.v2.
func flowScalar(s string) (interface{}, bool) {
	if s == "" {
		return nil, false
	}
	if s[0] == '"' || s[0] == '\'' {
		return inlineValue(s)
	}
	if s[0] == '-' || s[0] == ' ' || s[len(s)-1] == ' ' {
		return nil, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte(" ._/-", c) >= 0) {
			return nil, false
		}
	}
	return resolvePlain(s)
}

// yaml11Special are the plain words YAML 1.1 (goyaml.v2) reads as booleans or null.
var yaml11Special = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true, "n": true, "N": true, "no": true, "No": true, "NO": true,
	"true": true, "True": true, "TRUE": true, "false": true, "False": true, "FALSE": true,
	"on": true, "On": true, "ON": true, "off": true, "Off": true, "OFF": true,
	"null": true, "Null": true, "NULL": true, "~": true,
}

// isYAML11Special reports whether s is one of yaml11Special's words; the
// length test spares most keys and scalars the map lookup.
func isYAML11Special(s string) bool {
	return len(s) <= 5 && yaml11Special[s]
}

// resolvePlain gives a plain scalar's value with goyaml.v2's rules: words
// that start with a letter and are not special are strings, small decimal
// integers are ints, and everything else is left to goyaml.v2.
func resolvePlain(s string) (interface{}, bool) {
	if s == "" {
		return nil, true
	}
	c := s[0]
	if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '/') && !isYAML11Special(s) {
		return s, true
	}
	if len(s) < 18 && (s == "0" || c >= '1' && c <= '9') {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, true
		}
	}
	if isQuantityLike(s) {
		return s, true
	}
	// Resolve it where it stands: as the value of a block mapping entry.
	var m map[string]interface{}
	if err := yamlv2.UnmarshalStrict([]byte("k: "+s), &m); err != nil || len(m) != 1 {
		return nil, false
	}
	v := m["k"]
	switch v.(type) {
	case map[interface{}]interface{}, []interface{}:
		return nil, false
	}
	out, err := jsonable(v)
	return out, err == nil
}

// isQuantityLike reports whether s is digits, an optional ".digits" and a
// letter suffix ("100m", "1.5Gi"): a string for YAML 1.1 (not an int, a
// float or a timestamp), and frequent in manifests.
func isQuantityLike(s string) bool {
	i := 0
	if s[0] < '1' || s[0] > '9' {
		return false
	}
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i < len(s) && s[i] == '.' {
		i++
		j := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == j {
			return false
		}
	}
	if i == len(s) {
		return false
	}
	for ; i < len(s); i++ {
		if !(s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z') {
			return false
		}
	}
	return true
}

// resolveKey accepts a plain mapping key that starts with a letter and is
// not a YAML 1.1 special word; other keys (numbers, booleans, merge keys,
// ...) are left to goyaml.v2.
func resolveKey(k string) (string, bool) {
	c := k[0]
	if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') && !isYAML11Special(k) {
		return k, true
	}
	return "", false
}

// appendJSON encodes what fastYAML returns (maps, slices, ASCII strings,
// int64, float64, bool, nil) as JSON, without reflection. Keys are sorted
// like encoding/json's.
func appendJSON(b []byte, v interface{}) ([]byte, bool) {
	switch t := v.(type) {
	case map[string]interface{}:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			var ok bool
			if b, ok = appendJSON(b, t[k]); !ok {
				return nil, false
			}
		}
		return append(b, '}'), true
	case []interface{}:
		b = append(b, '[')
		for i, e := range t {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = appendJSON(b, e); !ok {
				return nil, false
			}
		}
		return append(b, ']'), true
	case string:
		return appendJSONString(b, t), true
	case int64:
		return strconv.AppendInt(b, t, 10), true
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return nil, false
		}
		return strconv.AppendFloat(b, t, 'g', -1, 64), true
	case bool:
		return strconv.AppendBool(b, t), true
	case nil:
		return append(b, "null"...), true
	}
	return nil, false
}

// appendJSONString quotes s; escapes beyond '"' and '\\' are never needed
// for fastYAML's printable-ASCII strings, others are \u-escaped.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20 || c >= 0x7f:
			b = append(b, `\u00`...)
			b = append(b, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
