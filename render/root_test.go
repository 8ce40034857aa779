package render

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// copyTree copies testdata/kust (base beside overlays) to a fresh
// directory outside any Git work tree and returns it.
func copyTree(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "repo")
	err := filepath.WalkDir("testdata/kust", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("testdata/kust", p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestFindRoot: --root wins, else the Git work tree, else the path itself
// (its directory for a file); never the current directory.
func TestFindRoot(t *testing.T) {
	tree := copyTree(t)
	wt, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(tree, "git-wt"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tree, "git-wt", ".git"), []byte("gitdir: elsewhere\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, root, want, err string
	}{
		{name: "inside a Git work tree", path: "testdata/kust/overlays/dev", want: wt},
		{name: "linked work tree (.git file)", path: filepath.Join(tree, "git-wt"), want: filepath.Join(tree, "git-wt")},
		{name: "no Git: the directory itself", path: filepath.Join(tree, "overlays/dev"), want: filepath.Join(tree, "overlays/dev")},
		{name: "no Git: a file's directory", path: filepath.Join(tree, "base/backup.yaml"), want: filepath.Join(tree, "base")},
		{name: "--root that holds the path", path: filepath.Join(tree, "overlays/dev"), root: tree, want: tree},
		{name: "--root wins over Git", path: "testdata/kust/overlays/dev", root: "testdata/kust", want: filepath.Join(wt, "render/testdata/kust")},
		{name: "--root that does not hold the path", path: filepath.Join(tree, "base"), root: filepath.Join(tree, "overlays"), err: "is outside the root"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FindRoot(tt.path, tt.root)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("FindRoot = %q, %v; want error %q", got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("FindRoot = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// TestRenderSiblingBaseFromAnyDirectory: an overlay whose base is its
// sibling renders the same from every working directory, given a root
// that holds both; without one (and no Git) the base is refused, with the
// flag to use named.
func TestRenderSiblingBaseFromAnyDirectory(t *testing.T) {
	tree := copyTree(t)
	overlay := filepath.Join(tree, "overlays/dev")
	var first []Document
	for _, cwd := range []string{overlay, tree, t.TempDir()} {
		t.Run("from "+filepath.Base(cwd), func(t *testing.T) {
			t.Chdir(cwd)
			path, err := filepath.Rel(cwd, overlay)
			if err != nil {
				t.Fatal(err)
			}
			opts := DefaultOptions()
			opts.Root = tree
			docs, err := Render([]string{path}, opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range docs {
				if d.Err != nil {
					t.Fatalf("%s: %v", d.Origin.File, d.Err)
				}
			}
			if len(docs) != 4 || docs[0].Origin.File != "base/settings.yaml" {
				t.Fatalf("got %d documents, first from %q; want 4, from base/settings.yaml", len(docs), docs[0].Origin.File)
			}
			if first == nil {
				first = docs
			} else if !reflect.DeepEqual(first, docs) {
				t.Errorf("documents differ from the first directory's")
			}
		})
	}
	t.Run("no root and no Git work tree", func(t *testing.T) {
		t.Chdir(tree) // the current directory holds the base, and does not count
		docs, err := Render([]string{"overlays/dev"}, DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if len(docs) != 1 || !errors.Is(docs[0].Err, ErrOutsideRoot) {
			t.Fatalf("want one ErrOutsideRoot document, got %+v", docs)
		}
		msg := docs[0].Err.Error()
		for _, want := range []string{"kustomize build .: ", "../../base", "--root"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error %q does not contain %q", msg, want)
			}
		}
	})
}
