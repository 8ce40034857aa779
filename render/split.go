package render

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// chunk is one document cut out of a file: its bytes and the 1-based line of
// its first byte. data always starts at the beginning of line `line` (YAML) or
// inside it (elements of a JSON array).
type chunk struct {
	line int
	data []byte
}

var bom = []byte("\xef\xbb\xbf")

// isBinary reports whether data cannot be YAML or JSON text.
func isBinary(data []byte) bool {
	return bytes.IndexByte(data, 0) >= 0 || !utf8.Valid(data)
}

// splitYAML cuts a YAML stream into its non-empty documents. A document starts
// at its first line that is not a separator, blank, comment or directive, and
// ends before the next separator ("---" or "..." at column 0). Documents with
// no such line are dropped. It never fails: syntax errors are the decoder's.
func splitYAML(data []byte) []chunk {
	data = bytes.TrimPrefix(data, bom) // lines stay the same
	var out []chunk
	start, startLine := -1, 0 // current document's first content line
	lineNo := 0
	flush := func(end int) {
		if start >= 0 {
			out = append(out, chunk{line: startLine, data: data[start:end:end]})
		}
		start = -1
	}
	for pos := 0; pos < len(data); {
		lineNo++
		end := bytes.IndexByte(data[pos:], '\n')
		next := len(data)
		if end >= 0 {
			next = pos + end + 1
		}
		line := data[pos:next]
		switch kind, rest := classify(line); kind {
		case lineSeparator:
			flush(pos)
			if !isBlankOrComment(rest) { // "--- {a: 1}": content on the marker line
				start, startLine = pos, lineNo
			}
		case lineEnd:
			flush(pos)
		case lineContent:
			if start < 0 {
				start, startLine = pos, lineNo
			}
		}
		pos = next
	}
	flush(len(data))
	return out
}

type lineKind int

const (
	lineBlank lineKind = iota // blank or comment only
	lineContent
	lineSeparator // "---" document start
	lineEnd       // "..." document end
	lineDirective // "%YAML 1.2" and the like: never starts a document
)

// classify says what one line (with its newline, if any) is; rest is what
// follows a marker.
func classify(line []byte) (lineKind, []byte) {
	if len(line) >= 3 && (line[0] == '-' || line[0] == '.') {
		marker := line[:3]
		rest := line[3:]
		if (string(marker) == "---" || string(marker) == "...") &&
			(len(rest) == 0 || rest[0] == ' ' || rest[0] == '\t' || rest[0] == '\r' || rest[0] == '\n') {
			if marker[0] == '-' {
				return lineSeparator, rest
			}
			return lineEnd, rest
		}
	}
	if len(line) > 0 && line[0] == '%' {
		return lineDirective, nil
	}
	if isBlankOrComment(line) {
		return lineBlank, nil
	}
	return lineContent, nil
}

// isBlankOrComment reports whether b holds only white space and, possibly, a comment.
func isBlankOrComment(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '#':
			return true
		default:
			return false
		}
	}
	return true
}

// splitJSON returns the one JSON value of a file, or each element when the
// file holds a top-level array. Malformed JSON is returned whole for the
// decoder to report.
func splitJSON(data []byte) []chunk {
	data = bytes.TrimPrefix(data, bom)
	first := skipSpace(data, 0)
	if first == len(data) {
		return nil
	}
	if data[first] == '[' {
		if elems, ok := splitJSONArray(data); ok {
			return elems
		}
	}
	ls := lineStart(data, first)
	return []chunk{{line: lineOf(data, ls), data: data[ls:len(data):len(data)]}}
}

func splitJSONArray(data []byte) ([]chunk, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return nil, false
	}
	var out []chunk
	line, counted := 1, 0
	for dec.More() {
		from := int(dec.InputOffset())
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		to := int(dec.InputOffset())
		from = skipSpace(data, from)
		if from < to && data[from] == ',' {
			from = skipSpace(data, from+1)
		}
		line += bytes.Count(data[counted:from], []byte{'\n'})
		counted = from
		out = append(out, chunk{line: line, data: data[from:to:to]})
	}
	if _, err := dec.Token(); err != nil { // the closing bracket
		return nil, false
	}
	if dec.More() || skipSpace(data, int(dec.InputOffset())) != len(data) {
		return nil, false // trailing garbage: let the decoder say so
	}
	return out, true
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// lineStart returns the offset of the start of the line holding offset i.
func lineStart(data []byte, i int) int {
	return bytes.LastIndexByte(data[:i], '\n') + 1
}

// lineOf returns the 1-based line of offset i.
func lineOf(data []byte, i int) int {
	return bytes.Count(data[:i], []byte{'\n'}) + 1
}
