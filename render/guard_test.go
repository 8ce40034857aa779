package render

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// billionLaughs is the classic alias bomb: levels of width aliases each.
func billionLaughs(levels, width int) string {
	var b strings.Builder
	b.WriteString("l0: &l0 lol\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "l%d: &l%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", i-1), width), ", "))
	}
	return b.String()
}

// aliasChain nests each level in the one before: depth grows by one per line.
func aliasChain(levels int) string {
	var b strings.Builder
	b.WriteString("l0: &l0 x\n")
	for i := 1; i <= levels; i++ {
		fmt.Fprintf(&b, "l%d: &l%d [*l%d]\n", i, i, i-1)
	}
	return b.String()
}

func TestCheckYAML(t *testing.T) {
	lowRatio, err := os.ReadFile("testdata/bomb/top/kustomization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data string
		want error
	}{
		{"no alias", "a: 1\nb: [x, y]\n", nil},
		{"a few aliases", "env: &env [a, b, c]\nfirst: *env\nsecond: *env\nmerged:\n  <<: {x: 1}\n", nil},
		{"merge keys", "defaults: &d {image: x, restart: Never}\njob1: {<<: *d, name: a}\njob2: {<<: *d, name: b}\n", nil},
		{"billion laughs", billionLaughs(9, 10), ErrAliasBomb},
		{"billion laughs in the second document", "a: 1\n---\n" + billionLaughs(9, 10), ErrAliasBomb},
		{"billion laughs with CRLF line ends", strings.ReplaceAll(billionLaughs(9, 10), "\n", "\r\n"), ErrAliasBomb},
		{"two aliases a level among plain values, doubling", string(lowRatio), ErrAliasBomb},
		{"just under the node limit", billionLaughs(4, 10), nil},
		{"aliases nested deeper than the limit", aliasChain(maxAliasDepth + 5), ErrAliasBomb},
		{"a short alias chain", aliasChain(50), nil},
		{"not YAML, left to kustomize", "a: *undefined\n", nil},
		{"a shell glob in a generator file", "rm -f /tmp/*.log\n", nil},
		{"an alias inside its own anchor", "a: &a [*a]\n", ErrAliasBomb},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkYAML([]byte(tt.data))
			if (tt.want == nil) != (err == nil) || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("checkYAML = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestKustomizeAliasBomb: a kustomization whose resource, patch or own file
// holds an alias bomb is one error document naming the file, in bounded
// memory. Before the pre-load check, the resource and patch fixtures drove
// the test process out of memory (kyaml's DeAnchor).
func TestKustomizeAliasBomb(t *testing.T) {
	tests := []struct {
		name, path, file string
	}{
		{"resource", "testdata/bomb/resource", "bomb.yaml"},
		{"patch", "testdata/bomb/patch", "patch.yaml"},
		{"the kustomization file itself", "testdata/bomb/top", "kustomization.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, err := Render([]string{tt.path}, testOptions())
			if err != nil {
				t.Fatal(err)
			}
			kfile := strings.TrimPrefix(tt.path, "testdata/") + "/kustomization.yaml"
			compare(t, docs, []got{{File: kfile, Err: ErrAliasBomb}})
			if msg := docs[0].Err.Error(); !strings.Contains(msg, tt.file) || !strings.Contains(msg, "write the values out") {
				t.Errorf("error %q does not name %s and what to do", msg, tt.file)
			}
		})
	}
}

// TestKustomizeAnchorsKept: ordinary anchors and aliases still build.
func TestKustomizeAnchorsKept(t *testing.T) {
	docs, err := Render([]string{"testdata/bomb/anchors"}, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	compare(t, docs, []got{{File: "bomb/anchors/job.yaml", Line: 1, Name: "anchors"}})
	if n := bytes.Count(docs[0].Data, []byte("name: LEVEL")); n != 2 {
		t.Errorf("the alias was not expanded into both containers (%d copies):\n%s", n, docs[0].Data)
	}
}

// FuzzGuard: checkYAML never panics, and what it accepts expands, as kyaml
// would, to no more than maxAliasNodes nodes beyond what is written.
func FuzzGuard(f *testing.F) {
	for _, p := range []string{"testdata/bomb/resource/bomb.yaml", "testdata/bomb/top/kustomization.yaml", "testdata/bomb/anchors/job.yaml"} {
		data, err := os.ReadFile(filepath.FromSlash(p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(billionLaughs(4, 10)))
	f.Add([]byte(aliasChain(20)))
	f.Add([]byte("a: &a {b: &b [*a]}\n---\nc: *b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if checkYAML(data) != nil {
			return
		}
		data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
		added := 0
		for _, piece := range kyamlSeparator.Split(string(data), -1) {
			dec := kyaml.NewDecoder(strings.NewReader(piece))
			for {
				var doc kyaml.Node
				if dec.Decode(&doc) != nil {
					break
				}
				written := countNodes(&doc, false, -1)
				budget := written + maxAliasNodes + 1 - added
				added += countNodes(&doc, true, budget) - written
				if added > maxAliasNodes {
					t.Fatalf("accepted, yet aliases add more than %d nodes:\n%s", maxAliasNodes, data)
				}
			}
		}
	})
}

// countNodes counts the nodes below n, following aliases when expand is
// set, stopping once the count passes limit (when limit >= 0).
func countNodes(n *kyaml.Node, expand bool, limit int) int {
	count := 0
	var walk func(n *kyaml.Node, depth int)
	walk = func(n *kyaml.Node, depth int) {
		if limit >= 0 && count > limit || depth > 2*maxAliasDepth {
			return
		}
		count++
		if n.Kind == kyaml.AliasNode && expand && n.Alias != nil {
			count--
			walk(n.Alias, depth+1)
			return
		}
		for _, c := range n.Content {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return count
}
