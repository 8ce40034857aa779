package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"

	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// The pre-load check: every file kustomize loads goes through checkLoad
// before kustomize parses it, because kyaml expands YAML aliases with no
// limit (yaml.RNode.DeAnchor, called by kio.ByteReader), so a few hundred
// bytes of anchors can take gigabytes.
const (
	// maxAliasNodes is how many YAML nodes aliases may add to one file
	// once expanded (legitimate anchors, shared env lists or `<<: *defaults`
	// merges, add hundreds; a billion-laughs file adds billions).
	maxAliasNodes = 100_000
	// maxAliasDepth bounds the depth of a file with aliases once they are
	// expanded (yaml.v3 bounds files without aliases at 10,000 levels).
	maxAliasDepth = 1_000
	// nodeCap saturates node counts, which grow exponentially with alias
	// levels.
	nodeCap = 1 << 40
)

// Errors carried by Document.Err for what the pre-load check or the
// render's limits refuse (match them with errors.Is).
var (
	// ErrAliasBomb: a file's YAML aliases expand past maxAliasNodes or maxAliasDepth.
	ErrAliasBomb = errors.New("YAML aliases expand too far")
	// ErrNotRegular: kustomize would load a FIFO, a device or a socket.
	ErrNotRegular = errors.New("not a regular file")
	// ErrLimit: the render went over Options.MaxDocuments, MaxTotalBytes or Timeout.
	ErrLimit = errors.New("render limit exceeded")
)

// kyamlSeparator is how kio.ByteReader (splitDocuments) cuts a file into
// the documents it decodes one by one.
var kyamlSeparator = regexp.MustCompile(`\n---.*\n`)

// checkYAML refuses YAML whose aliases would expand past the limits. Only
// documents holding an alias (a '*') are parsed, as node trees, which do not
// expand aliases; documents that do not parse are left to kustomize, which
// refuses them before expanding anything.
func checkYAML(data []byte) error {
	if bytes.IndexByte(data, '*') < 0 {
		return nil
	}
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	prev, added := 0, 0
	for _, loc := range append(kyamlSeparator.FindAllIndex(data, -1), []int{len(data), len(data)}) {
		piece := data[prev:loc[0]]
		prev = loc[1]
		if bytes.IndexByte(piece, '*') < 0 {
			continue
		}
		n, err := aliasGrowth(piece)
		if err != nil {
			return err
		}
		if added += n; added > maxAliasNodes {
			return fmt.Errorf("%w: they add more than %d nodes once expanded (an alias bomb?); write the values out instead", ErrAliasBomb, maxAliasNodes)
		}
	}
	return nil
}

// aliasGrowth returns how many nodes the aliases of one piece add when
// expanded, or an error when it expands deeper than maxAliasDepth or an
// alias contains itself.
func aliasGrowth(piece []byte) (int, error) {
	dec := kyaml.NewDecoder(bytes.NewReader(piece))
	s := shaper{memo: map[*kyaml.Node]shape{}, busy: map[*kyaml.Node]bool{}}
	added := 0
	for {
		var doc kyaml.Node
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				return added, nil
			}
			return added, nil // not YAML: kustomize reports it without expanding
		}
		sh := s.of(&doc, 0)
		if s.over || sh.height > maxAliasDepth {
			return 0, fmt.Errorf("%w: nested deeper than %d levels once expanded, or an alias contains itself; write the values out instead", ErrAliasBomb, maxAliasDepth)
		}
		added = min(added+sh.nodes-sh.written, nodeCap)
	}
}

// shape is a YAML node tree as written and once its aliases are expanded.
type shape struct {
	written int // nodes as written (an alias is one)
	nodes   int // nodes once aliases are expanded (saturates at nodeCap)
	height  int // levels once aliases are expanded
	aliases int // alias nodes as written
}

// shaper measures node trees without expanding them: the expansion of each
// anchored node is computed once.
type shaper struct {
	memo map[*kyaml.Node]shape
	busy map[*kyaml.Node]bool
	over bool // deeper than maxAliasDepth, or an alias inside its own anchor
}

func (s *shaper) of(n *kyaml.Node, depth int) shape {
	if s.over || depth > maxAliasDepth {
		s.over = true
		return shape{}
	}
	if n.Kind == kyaml.AliasNode {
		out := shape{written: 1, nodes: 1, height: 1, aliases: 1}
		if n.Alias != nil {
			t := s.expanded(n.Alias, depth)
			out.nodes, out.height = t.nodes, t.height
		}
		return out
	}
	out := shape{written: 1, nodes: 1}
	for _, c := range n.Content {
		cs := s.of(c, depth+1)
		out.written += cs.written
		out.nodes = min(out.nodes+cs.nodes, nodeCap)
		out.height = max(out.height, cs.height)
		out.aliases += cs.aliases
	}
	out.height++
	return out
}

// expanded is the shape of an anchored node, computed once.
func (s *shaper) expanded(t *kyaml.Node, depth int) shape {
	if sh, ok := s.memo[t]; ok {
		return sh
	}
	if s.busy[t] {
		s.over = true
		return shape{}
	}
	s.busy[t] = true
	sh := s.of(t, depth)
	delete(s.busy, t)
	s.memo[t] = sh
	return sh
}

// load reads a file for kustomize after the pre-load check: the render's
// context and load budget (Options.MaxTotalBytes, the size known before
// reading), then its aliases. The first refusal is remembered for the
// error document, since kustomize's own message would bury it.
func (f *boundedFS) load(p string) ([]byte, error) {
	size := int64(0)
	if fi, err := os.Stat(p); err == nil {
		switch {
		case fi.Mode().IsRegular():
			size = fi.Size()
		case !fi.IsDir(): // a FIFO or a device: no size, and a read may never end
			return nil, f.refuseLoad(p, ErrNotRegular)
		}
	}
	if err := f.spent.load(size); err != nil {
		return nil, f.refuseLoad(p, err)
	}
	data, err := f.FileSystem.ReadFile(p)
	if err != nil {
		return nil, err
	}
	if err := f.spent.load(int64(len(data)) - size); err != nil {
		return nil, f.refuseLoad(p, err)
	}
	if err := checkYAML(data); err != nil {
		return nil, f.refuseLoad(p, err)
	}
	return data, nil
}

func (f *boundedFS) refuseLoad(p string, err error) error {
	if f.refused == nil {
		f.refused, f.refusedPath = err, p
	}
	return fmt.Errorf("%s: %w", p, err)
}

// hasAlias reports whether an alias appears anywhere below n.
func hasAlias(n *kyaml.Node) bool {
	s := shaper{memo: map[*kyaml.Node]shape{}, busy: map[*kyaml.Node]bool{}}
	return s.of(n, 0).aliases > 0 || s.over
}
