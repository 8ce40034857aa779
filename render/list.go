package render

import (
	"bytes"
	"encoding/json"
	"regexp"

	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// listKind finds a top-level `kind: List` in YAML or JSON text cheaply.
var listKind = regexp.MustCompile(`(?m)(^kind:[ \t]*["']?List["']?[ \t]*(#.*)?\r?$)|("kind"[ \t\r\n]*:[ \t\r\n]*"List")`)

// expandList returns one document per item of a `kind: List` document, or
// the document itself when it is not a List or cannot be cut into items
// (then the decoder reports whatever is wrong). Items in block style keep
// their own text (de-indented, so Data's lines still match the file's from
// Origin.Line); flow-style items (JSON) are re-encoded as JSON.
func expandList(o Origin, data []byte) []Document {
	one := []Document{{Origin: o, Data: data}}
	if !bytes.Contains(data, []byte("List")) || !listKind.Match(data) {
		return one
	}
	var root kyaml.Node
	if err := kyaml.Unmarshal(data, &root); err != nil || len(root.Content) != 1 {
		return one
	}
	top := root.Content[0]
	if top.Kind != kyaml.MappingNode || scalar(top, "kind") != "List" {
		return one
	}
	items, next := mapValue(top, "items")
	if items == nil || items.Kind == kyaml.ScalarNode && items.Tag == "!!null" {
		return []Document{{Origin: o}} // a List without items holds no objects
	}
	if items.Kind != kyaml.SequenceNode {
		return one
	}
	endLine := bytes.Count(data, []byte{'\n'}) + 1
	if next != nil {
		endLine = next.Line - 1
	}
	docs := make([]Document, 0, len(items.Content))
	for i, it := range items.Content {
		last := endLine
		if i+1 < len(items.Content) {
			last = items.Content[i+1].Line - 1
		}
		d, ok := cutItem(data, it, last)
		if !ok {
			return one
		}
		docs = append(docs, Document{Origin: Origin{File: o.File, Line: o.Line + it.Line - 1}, Data: d})
	}
	if len(docs) == 0 {
		return []Document{{Origin: o}}
	}
	return docs
}

// cutItem returns the text of one List item spanning lines it.Line..last.
func cutItem(data []byte, it *kyaml.Node, last int) ([]byte, bool) {
	if it.Kind != kyaml.MappingNode {
		return nil, false
	}
	if it.Style&kyaml.FlowStyle != 0 {
		if hasAlias(it) { // decoding would expand it (an alias bomb)
			return nil, false
		}
		var v any
		if err := it.Decode(&v); err != nil {
			return nil, false
		}
		b, err := json.Marshal(v)
		return b, err == nil
	}
	if last < it.Line {
		return nil, false
	}
	lines := bytes.SplitAfter(data, []byte{'\n'})
	if last > len(lines) {
		last = len(lines)
	}
	indent := it.Column - 1
	var out bytes.Buffer
	for n := it.Line; n <= last; n++ {
		l := lines[n-1]
		cut := 0
		for cut < indent && cut < len(l) && (l[cut] == ' ' || (n == it.Line && l[cut] == '-')) {
			cut++
		}
		if n == it.Line && cut != indent {
			return nil, false
		}
		out.Write(l[cut:])
	}
	return out.Bytes(), true
}

// mapValue returns the value of key in a mapping node and the key node that follows it.
func mapValue(m *kyaml.Node, key string) (val, nextKey *kyaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			if i+2 < len(m.Content) {
				nextKey = m.Content[i+2]
			}
			return m.Content[i+1], nextKey
		}
	}
	return nil, nil
}

func scalar(m *kyaml.Node, key string) string {
	v, _ := mapValue(m, key)
	if v == nil || v.Kind != kyaml.ScalarNode {
		return ""
	}
	return v.Value
}
