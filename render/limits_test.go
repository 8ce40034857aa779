package render

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRenderLimits(t *testing.T) {
	tests := []struct {
		name, path string
		opts       func(*Options)
		want       []got
		flag       string
	}{
		{"documents past MaxDocuments become one error", "testdata/limits/many", func(o *Options) { o.MaxDocuments = 3 }, []got{
			{File: "limits/many/a.yaml", Line: 1, Name: "a1"},
			{File: "limits/many/a.yaml", Line: 6, Name: "a2"},
			{File: "limits/many/b.yaml", Line: 1, Name: "b1"},
			{File: "limits/many/b.yaml", Err: ErrLimit},
		}, "--render-max-documents"},
		{"exactly MaxDocuments is fine", "testdata/limits/many", func(o *Options) { o.MaxDocuments = 6 }, []got{
			{File: "limits/many/a.yaml", Line: 1, Name: "a1"},
			{File: "limits/many/a.yaml", Line: 6, Name: "a2"},
			{File: "limits/many/b.yaml", Line: 1, Name: "b1"},
			{File: "limits/many/b.yaml", Line: 6, Name: "b2"},
			{File: "limits/many/c.yaml", Line: 1, Name: "c1"},
			{File: "limits/many/c.yaml", Line: 6, Name: "c2"},
		}, ""},
		{"documents past MaxTotalBytes become one error", "testdata/limits/many", func(o *Options) { o.MaxTotalBytes = 200 }, []got{
			{File: "limits/many/a.yaml", Line: 1, Name: "a1"},
			{File: "limits/many/a.yaml", Line: 6, Name: "a2"},
			{File: "limits/many/b.yaml", Line: 1, Name: "b1"},
			{File: "limits/many/b.yaml", Err: ErrLimit},
		}, "--render-max-mb"},
		{"a file over MaxTotalBytes is not read", "testdata/limits/many/a.yaml", func(o *Options) { o.MaxTotalBytes = 100 }, []got{
			{File: "limits/many/a.yaml", Err: ErrLimit},
		}, "--render-max-mb"},
		{"kustomize loads past MaxTotalBytes", "testdata/kust", func(o *Options) { o.MaxTotalBytes = 600 }, []got{
			{File: "kust/kustomization.yaml", Err: ErrLimit},
		}, "--render-max-mb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions()
			tt.opts(&opts)
			for range 3 { // the same cut whichever worker goes over first
				docs, err := Render([]string{tt.path}, opts)
				if err != nil {
					t.Fatal(err)
				}
				compare(t, docs, tt.want)
				if last := docs[len(docs)-1]; tt.flag != "" && !strings.Contains(last.Err.Error(), tt.flag) {
					t.Errorf("error %q does not name %s", last.Err, tt.flag)
				}
			}
		})
	}
}

// bigKustomization writes a kustomization of n ConfigMaps with a name
// prefix, which kustomize takes seconds to build.
func bigKustomization(t testing.TB, n int) string {
	t.Helper()
	dir := t.TempDir()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%d\ndata:\n  key: value-%d\n", i, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "cms.yaml"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	k := "namePrefix: big-\nlabels: [{pairs: {app: big}}]\nresources:\n  - cms.yaml\n"
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte(k), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestRenderTimeout: a kustomize build over Options.Timeout is abandoned;
// the render is one ErrLimit document that names --render-timeout.
func TestRenderTimeout(t *testing.T) {
	dir := bigKustomization(t, 10_000)
	opts := DefaultOptions()
	opts.Root = dir
	opts.Timeout = 50 * time.Millisecond
	start := time.Now()
	docs, err := Render([]string{dir}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the render returned %v after it started, long after its timeout", took)
	}
	compare(t, docs, []got{{File: ".", Err: ErrLimit}})
	if !strings.Contains(docs[0].Err.Error(), "--render-timeout") {
		t.Errorf("error %q does not name --render-timeout", docs[0].Err)
	}
}

// TestRenderContextEnds: a context that ends, before or during a kustomize
// build, ends the render with its error and no documents.
func TestRenderContextEnds(t *testing.T) {
	dir := bigKustomization(t, 10_000)
	opts := DefaultOptions()
	opts.Root = dir
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	during, stop := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer stop()
	for name, ctx := range map[string]context.Context{"before": cancelled, "during": during} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			docs, err := RenderContext(ctx, []string{dir, "testdata/limits/many"}, opts)
			if !errors.Is(err, ctx.Err()) || docs != nil {
				t.Fatalf("RenderContext = %d documents, %v; want none and %v", len(docs), err, ctx.Err())
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("the render returned %v after it started", took)
			}
		})
	}
}

// TestKustomizeFIFORefused: a FIFO named as a resource (a local-directory
// source can hold one) is refused at once instead of a read that never ends.
func TestKustomizeFIFORefused(t *testing.T) {
	dir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe.yaml"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte("resources:\n  - pipe.yaml\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	opts.Root = dir
	opts.Timeout = 5 * time.Second
	docs, err := Render([]string{dir}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || !errors.Is(docs[0].Err, ErrNotRegular) {
		t.Errorf("documents %+v, want one ErrNotRegular", docs)
	}
}
