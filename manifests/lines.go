package manifests

import (
	"hash/maphash"
	"strconv"
	"strings"
	"sync"

	yaml "go.yaml.in/yaml/v3"
)

// lineSeed hashes field paths for line indexes (one seed per process).
var lineSeed = maphash.MakeSeed()

// lineIndex maps API field paths to lines of a document in its file. It is
// built from the YAML node tree the first time a line is asked for, so valid
// documents that nobody asks about cost nothing. It keeps only a hash of
// each path (a few bytes per field), not the path strings.
type lineIndex struct {
	once  sync.Once
	data  []byte
	first int // line of the document's first line in the file
	m     map[uint64]int32
}

func newLineIndex(data []byte, first int) *lineIndex {
	if first < 1 {
		first = 1
	}
	return &lineIndex{data: data, first: first}
}

// lookup returns the line of path, if the document has that field.
func (x *lineIndex) lookup(path string) (int, bool) {
	if x == nil {
		return 0, false
	}
	x.once.Do(x.build)
	if x.m == nil {
		return 0, false
	}
	l, ok := x.m[maphash.String(lineSeed, normalizePath(path))]
	return int(l), ok
}

// built reports whether the index has been built (call it only from the
// goroutine that used lookup).
func (x *lineIndex) built() bool { return x.data == nil }

func (x *lineIndex) build() {
	if !x.buildFast() {
		x.buildNodes()
	}
	x.data = nil
}

// buildFast indexes the document with fastParse (plain block YAML).
func (x *lineIndex) buildFast() bool {
	x.m = make(map[uint64]int32, 64)
	_, ok := fastParse(x.data, x.set)
	return ok
}

// buildNodes indexes any YAML through goyaml.v3's node tree.
func (x *lineIndex) buildNodes() {
	var root yaml.Node
	x.m = make(map[uint64]int32, 64)
	if err := yaml.Unmarshal(x.data, &root); err != nil {
		x.m = nil
		return
	}
	x.walk(&root, "", 0)
}

// normalizePath writes map keys the way the index records them:
// "labels[app]" becomes "labels.app"; list indexes stay "[0]".
func normalizePath(p string) string {
	if !strings.Contains(p, "[") {
		return p
	}
	var b strings.Builder
	for len(p) > 0 {
		i := strings.IndexByte(p, '[')
		if i < 0 {
			b.WriteString(p)
			break
		}
		b.WriteString(p[:i])
		j := strings.IndexByte(p[i:], ']')
		if j < 0 {
			b.WriteString(p[i:])
			break
		}
		key := p[i+1 : i+j]
		if _, err := strconv.Atoi(key); err == nil {
			b.WriteString(p[i : i+j+1])
		} else {
			b.WriteString(".")
			b.WriteString(key)
		}
		p = p[i+j+1:]
	}
	return b.String()
}

// walk records the line of every mapping key and sequence item below n.
// Aliases are not followed, so an alias bomb costs only its written size.
func (x *lineIndex) walk(n *yaml.Node, path string, depth int) {
	if depth > 100 {
		return
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			x.walk(c, path, depth+1)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := joinPath(path, k.Value)
			x.set(p, k.Line)
			x.walk(v, p, depth+1)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			x.set(p, c.Line)
			x.walk(c, p, depth+1)
		}
	}
}

// set keeps the first line seen for a path (line is 1-based in the document).
func (x *lineIndex) set(p string, line int) {
	h := maphash.String(lineSeed, p)
	if _, ok := x.m[h]; !ok {
		x.m[h] = int32(x.first + line - 1)
	}
}
