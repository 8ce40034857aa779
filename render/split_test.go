package render

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

func TestSplitYAML(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		lines []int
		texts []string
	}{
		{"single document", "a: 1\n", []int{1}, []string{"a: 1\n"}},
		{"no trailing newline", "a: 1", []int{1}, []string{"a: 1"}},
		{"leading separator and comments", "---\n# c\n\na: 1\n", []int{4}, []string{"a: 1\n"}},
		{"trailing comment stays with its document", "a: 1\n# tail\n---\nb: 2\n", []int{1, 4}, []string{"a: 1\n# tail\n", "b: 2\n"}},
		{"empty documents dropped", "---\n---\n# x\n---\n\n", nil, nil},
		{"separator with content", "--- {a: 1}\n", []int{1}, []string{"--- {a: 1}\n"}},
		{"separator with comment", "--- # x\na: 1\n", []int{2}, []string{"a: 1\n"}},
		{"document end marker", "a: 1\n...\n---\nb: 2\n", []int{1, 4}, []string{"a: 1\n", "b: 2\n"}},
		{"dashes that are not separators", "a: |\n ---\n----\n-- x\n", []int{1}, []string{"a: |\n ---\n----\n-- x\n"}},
		{"directive before separator", "%YAML 1.2\n---\na: 1\n", []int{3}, []string{"a: 1\n"}},
		{"byte order mark", "\xef\xbb\xbfa: 1\n", []int{1}, []string{"a: 1\n"}},
		{"CRLF separator", "a: 1\r\n---\r\nb: 2\r\n", []int{1, 3}, []string{"a: 1\r\n", "b: 2\r\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chunks := splitYAML([]byte(tt.in))
			if len(chunks) != len(tt.lines) {
				t.Fatalf("got %d documents, want %d: %+v", len(chunks), len(tt.lines), chunks)
			}
			for i, c := range chunks {
				if c.line != tt.lines[i] || string(c.data) != tt.texts[i] {
					t.Errorf("document %d = line %d %q, want line %d %q", i, c.line, c.data, tt.lines[i], tt.texts[i])
				}
			}
		})
	}
}

// FuzzSplit checks that splitting never panics and that every document's
// bytes are the file's own bytes starting at the first byte of its line, in
// order, starting with a content line, and that no content line is lost.
func FuzzSplit(f *testing.F) {
	for _, s := range []string{"a: 1\n---\nb: 2\n", "--- {a: 1}\n...\n", "# x\n---\n\n", "\xef\xbb\xbf---\r\na: 1\r\n",
		"[{\"a\":1},\n{\"b\":2}]", "kind: List\nitems:\n- a: 1\n- b: 2\n", "kind: List\nitems: [{a: 1}]\n", "\x00"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		text := bytes.TrimPrefix(data, bom)
		lines := bytes.SplitAfter(text, []byte{'\n'})
		starts := make([]int, len(lines)+1) // byte offset of each 1-based line
		for i, l := range lines {
			starts[i+1] = starts[i] + len(l)
		}
		content := 0
		for _, l := range lines {
			if k, rest := classify(l); k == lineContent || (k == lineSeparator && !isBlankOrComment(rest)) {
				content++
			}
		}
		covered, prev := 0, 0
		for _, c := range splitYAML(data) {
			if c.line <= prev || c.line > len(lines) {
				t.Fatalf("line %d after %d, file has %d lines", c.line, prev, len(lines))
			}
			prev = c.line
			at := starts[c.line-1]
			if !bytes.HasPrefix(text[at:], c.data) || len(c.data) == 0 {
				t.Fatalf("document at line %d is not the file's text there: %q", c.line, c.data)
			}
			first := bytes.SplitAfter(c.data, []byte{'\n'})[0]
			if k, rest := classify(first); k != lineContent && (k != lineSeparator || isBlankOrComment(rest)) {
				t.Fatalf("document at line %d starts with a non-content line %q", c.line, first)
			}
			for _, l := range bytes.SplitAfter(c.data, []byte{'\n'}) {
				if k, rest := classify(l); k == lineContent || (k == lineSeparator && !isBlankOrComment(rest)) {
					covered++
				}
			}
		}
		if covered != content {
			t.Fatalf("documents hold %d content lines, the file has %d", covered, content)
		}
		// The whole pipeline on the same bytes, as YAML and as JSON, must not panic.
		r := &renderer{opts: Options{MaxDocumentBytes: 64}}
		for _, isJSON := range []bool{false, true} {
			for _, d := range r.split("f", data, isJSON) {
				if d.Data != nil && d.Err != nil {
					t.Fatalf("document with both Data and Err")
				}
			}
		}
	})
}

// BenchmarkRenderDir renders 100 files of 100 CronJob documents each.
func BenchmarkRenderDir(b *testing.B) {
	dir := b.TempDir()
	for f := 0; f < 100; f++ {
		var buf bytes.Buffer
		for d := 0; d < 100; d++ {
			fmt.Fprintf(&buf, cronJobTemplate, f, d)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("file-%03d.yaml", f)), buf.Bytes(), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	opts := DefaultOptions()
	opts.Root = dir
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		docs, err := Render([]string{dir}, opts)
		if err != nil || len(docs) != 10000 {
			b.Fatalf("got %d documents, err %v", len(docs), err)
		}
	}
}

const cronJobTemplate = `---
# a generated CronJob
apiVersion: batch/v1
kind: CronJob
metadata:
  name: job-%03d-%03d
  namespace: batch
spec:
  schedule: "*/15 * * * *"
  timeZone: Europe/Berlin
  concurrencyPolicy: Forbid
  startingDeadlineSeconds: 300
  jobTemplate:
    spec:
      activeDeadlineSeconds: 600
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: main
              image: registry.example.com/tools:1.2.3
              command: ["sh", "-c", "echo hello"]
              resources:
                requests: {cpu: 100m, memory: 64Mi}
                limits: {cpu: 200m, memory: 128Mi}
`

func TestListAliasBombIsNotExpanded(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("kind: List\nitems: [{a0: &a0 [x, x, x, x, x, x, x, x, x, x]")
	for i := 1; i < 12; i++ {
		fmt.Fprintf(&b, ", a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]", i, i, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1, i-1)
	}
	b.WriteString("}]\n")
	docs := expandList(Origin{File: "bomb.yaml", Line: 1}, b.Bytes())
	if len(docs) != 1 || !bytes.Equal(docs[0].Data, b.Bytes()) {
		t.Fatalf("want the List left whole for the decoder to refuse, got %d documents", len(docs))
	}
}
