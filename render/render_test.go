package render

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// got is a document reduced to what the tests compare.
type got struct {
	File string
	Line int
	Name string // metadata.name of Data; "" when Data is empty
	Err  error  // compared with errors.Is
}

func summarize(t *testing.T, docs []Document) []got {
	t.Helper()
	out := make([]got, len(docs))
	for i, d := range docs {
		out[i] = got{File: d.Origin.File, Line: d.Origin.Line, Err: d.Err}
		if d.Err != nil && d.Data != nil {
			t.Errorf("document %d has both Data and Err", i)
		}
		if len(d.Data) > 0 {
			var head struct {
				Metadata struct{ Name string } `json:"metadata"`
			}
			if err := yaml.Unmarshal(d.Data, &head); err != nil {
				t.Fatalf("document %d (%s:%d) does not decode: %v\n%s", i, d.Origin.File, d.Origin.Line, err, d.Data)
			}
			out[i].Name = head.Metadata.Name
		}
	}
	return out
}

func compare(t *testing.T, docs []Document, want []got) {
	t.Helper()
	have := summarize(t, docs)
	if len(have) != len(want) {
		t.Fatalf("got %d documents, want %d:\n got %+v\nwant %+v", len(have), len(want), have, want)
	}
	for i := range want {
		h, w := have[i], want[i]
		if h.File != w.File || h.Line != w.Line || h.Name != w.Name {
			t.Errorf("document %d: got %s:%d %q, want %s:%d %q", i, h.File, h.Line, h.Name, w.File, w.Line, w.Name)
		}
		if (w.Err == nil) != (h.Err == nil) || (w.Err != nil && !errors.Is(h.Err, w.Err)) {
			t.Errorf("document %d (%s:%d): err = %v, want %v", i, h.File, h.Line, h.Err, w.Err)
		}
	}
}

func testOptions() Options {
	o := DefaultOptions()
	o.Root = "testdata"
	return o
}

func TestRenderInputs(t *testing.T) {
	tests := []struct {
		name  string
		paths []string
		opts  func(*Options)
		want  []got
	}{
		{"multi-document stream keeps each document's first line", []string{"testdata/multidoc.yaml"}, nil, []got{
			{File: "multidoc.yaml", Line: 3, Name: "first"},
			{File: "multidoc.yaml", Line: 13, Name: "second"},
			{File: "multidoc.yaml", Line: 21, Name: "third"},
			{File: "multidoc.yaml", Line: 23, Name: "fourth"},
		}},
		{"CRLF line endings", []string{"testdata/crlf.yaml"}, nil, []got{
			{File: "crlf.yaml", Line: 1, Name: "crlf1"},
			{File: "crlf.yaml", Line: 6, Name: "crlf2"},
		}},
		{"empty file is one document without objects", []string{"testdata/empty.yaml"}, nil, []got{
			{File: "empty.yaml"},
		}},
		{"file of comments and separators holds no objects", []string{"testdata/comments-only.yaml"}, nil, []got{
			{File: "comments-only.yaml"},
		}},
		{"NUL bytes make a binary file", []string{"testdata/binary.yaml"}, nil, []got{
			{File: "binary.yaml", Err: ErrBinary},
		}},
		{"invalid UTF-8 makes a binary file", []string{"testdata/invalid-utf8.yaml"}, nil, []got{
			{File: "invalid-utf8.yaml", Err: ErrBinary},
		}},
		{"JSON object starts at its first line", []string{"testdata/json/one.json"}, nil, []got{
			{File: "json/one.json", Line: 2, Name: "one"},
		}},
		{"JSON array is expanded with each element's line", []string{"testdata/json/array.json"}, nil, []got{
			{File: "json/array.json", Line: 2, Name: "e1"},
			{File: "json/array.json", Line: 3, Name: "e2"},
		}},
		{"blank JSON file holds no objects", []string{"testdata/json/blank.json"}, nil, []got{
			{File: "json/blank.json"},
		}},
		{"YAML List is expanded with each item's line", []string{"testdata/list.yaml"}, nil, []got{
			{File: "list.yaml", Line: 4, Name: "item1"},
			{File: "list.yaml", Line: 8, Name: "item2"},
		}},
		{"JSON List is expanded", []string{"testdata/list.json"}, nil, []got{
			{File: "list.json", Line: 2, Name: "j1"},
			{File: "list.json", Line: 3, Name: "j2"},
		}},
		{"empty List holds no objects", []string{"testdata/list-empty.yaml"}, nil, []got{
			{File: "list-empty.yaml", Line: 1},
		}},
		{"directory: manifest files sorted, hidden and other files skipped", []string{"testdata/plain"}, nil, []got{
			{File: "plain/a.yaml", Line: 1, Name: "a1"},
			{File: "plain/a.yaml", Line: 6, Name: "a2"},
			{File: "plain/b.yml", Line: 2, Name: "b"},
			{File: "plain/c.json", Line: 1, Name: "c"},
			{File: "plain/sub/d.yaml", Line: 1, Name: "d"},
		}},
		{"nested directories sorted by path", []string{"testdata/nested"}, nil, []got{
			{File: "nested/a.yaml", Line: 1, Name: "a-yaml"},
			{File: "nested/a/b/c.yaml", Line: 1, Name: "a-b-c-yaml"},
			{File: "nested/a/x.yaml", Line: 1, Name: "a-x-yaml"},
			{File: "nested/z.yaml", Line: 1, Name: "z-yaml"},
		}},
		{"directory whose subdirectories hold kustomizations is plain", []string{"testdata/kust/overlays"}, nil, []got{
			{File: "kust/overlays/dev/extra.yaml", Line: 3, Name: "runner"},
			{File: "kust/overlays/dev/suspend.yaml", Line: 1, Name: "backup"},
		}},
		{"a file named explicitly is rendered even when hidden", []string{"testdata/plain/.jobsync.yaml"}, nil, []got{
			{File: "plain/.jobsync.yaml", Line: 1, Name: "d"},
		}},
		{"several paths in order", []string{"testdata/plain/b.yml", "testdata/json/one.json"}, nil, []got{
			{File: "plain/b.yml", Line: 2, Name: "b"},
			{File: "json/one.json", Line: 2, Name: "one"},
		}},
		{"documents over the limit are errors, the others stay", []string{"testdata/multidoc.yaml"},
			func(o *Options) { o.MaxDocumentBytes = 80 }, []got{
				{File: "multidoc.yaml", Line: 3, Name: "first"},
				{File: "multidoc.yaml", Line: 13, Err: ErrTooLarge},
				{File: "multidoc.yaml", Line: 21, Name: "third"},
				{File: "multidoc.yaml", Line: 23, Name: "fourth"},
			}},
		{"origin outside the root is the path as given", []string{"testdata/plain/b.yml"},
			func(o *Options) { o.Root = "testdata/nested" }, []got{
				{File: "testdata/plain/b.yml", Line: 2, Name: "b"},
			}},
		{"empty root means the Git work tree", []string{"testdata/plain/b.yml"},
			func(o *Options) { o.Root = "" }, []got{
				{File: "render/testdata/plain/b.yml", Line: 2, Name: "b"},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions()
			if tt.opts != nil {
				tt.opts(&opts)
			}
			docs, err := Render(tt.paths, opts)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			compare(t, docs, tt.want)
		})
	}
}

func TestRenderErrorMessages(t *testing.T) {
	tests := []struct {
		name, path string
		opts       func(*Options)
		want       string
	}{
		{"too large names the limit", "testdata/multidoc.yaml", func(o *Options) { o.MaxDocumentBytes = 80 },
			"document too large: 96 bytes, over the limit of 80 bytes"},
		{"binary file", "testdata/binary.yaml", nil, "binary file, not YAML or JSON"},
		{"unreadable file", "/proc/self/mem", nil, "read /proc/self/mem: input/output error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions()
			if tt.opts != nil {
				tt.opts(&opts)
			}
			docs, err := Render([]string{tt.path}, opts)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			var msgs []string
			for _, d := range docs {
				if d.Err != nil {
					msgs = append(msgs, d.Err.Error())
				}
			}
			if len(msgs) != 1 || msgs[0] != tt.want {
				t.Errorf("errors = %q, want [%q]", msgs, tt.want)
			}
		})
	}
}

func TestRenderFailures(t *testing.T) {
	tests := []struct {
		name  string
		paths []string
		want  string
		is    error
	}{
		{"missing path", []string{"testdata/plain/b.yml", "testdata/nope"},
			"render: path testdata/nope: no such file or directory", fs.ErrNotExist},
		{"stdin without a reader", []string{"-"}, "render: path -: no standard input given", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, err := Render(tt.paths, testOptions())
			if err == nil || err.Error() != tt.want {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			if docs != nil {
				t.Errorf("docs = %d, want none on error", len(docs))
			}
		})
	}
}

func TestRenderStdin(t *testing.T) {
	in := "# piped\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s1\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: s2\n"
	opts := testOptions()
	opts.Stdin = strings.NewReader(in)
	docs, err := Render([]string{"-", "testdata/plain/b.yml"}, opts)
	if err != nil {
		t.Fatal(err)
	}
	compare(t, docs, []got{
		{File: "-", Line: 3, Name: "s1"},
		{File: "-", Line: 8, Name: "s2"},
		{File: "plain/b.yml", Line: 2, Name: "b"},
	})
}

// TestRenderWalkSkips uses a temporary tree because a fixture directory
// named .git could not be committed.
func TestRenderWalkSkips(t *testing.T) {
	dir := t.TempDir()
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n"
	files := map[string]string{
		".git/objects/x.yaml":       "name: not-this",
		".github/workflows/ci.yml":  "on: push",
		".gitlab-ci.yml":            "stages: []",
		".jobsync.yaml":             "policies: {}",
		"kustomization.yaml.orig":   "x: 1",
		"app/Kustomization":         "resources: []",
		"app/kustomization.yml":     "resources: []",
		"app/job.yaml":              strings.Replace(cm, "%s", "job", 1),
		"app/UPPER.YAML":            strings.Replace(cm, "%s", "upper", 1),
		"a-dir.yaml/inside.json":    `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"inside"}}`,
		"a-dir.yaml/.hidden.yaml":   "x: 1",
		"deep/er/still/deeper.yaml": strings.Replace(cm, "%s", "deeper", 1),
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(dir, "app/job.yaml"), filepath.Join(dir, "link.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(dir, "nowhere.yaml"), filepath.Join(dir, "dangling.yaml")); err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	opts.Root = dir
	docs, err := Render([]string{dir}, opts)
	if err != nil {
		t.Fatal(err)
	}
	compare(t, docs, []got{
		{File: "a-dir.yaml/inside.json", Line: 1, Name: "inside"},
		{File: "app/UPPER.YAML", Line: 1, Name: "upper"},
		{File: "app/job.yaml", Line: 1, Name: "job"},
		{File: "deep/er/still/deeper.yaml", Line: 1, Name: "deeper"},
		{File: "link.yaml", Line: 1, Name: "job"},
	})
}
