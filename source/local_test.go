package source

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jobsync/jobsync/internal/gittest"
)

func TestLocalPlainDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("a: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := NewLocal(LocalOptions{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	a := fetchOK(t, l)
	if !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(a.Revision) || a.Dir != dir || a.History != HistoryInitial {
		t.Fatalf("first = %+v, want sha256:<hex> for %s", a, dir)
	}
	if b := fetchOK(t, l); b.Revision != a.Revision || b.Changed {
		t.Fatalf("unchanged dir = %s (changed %t), want %s", b.Revision, b.Changed, a.Revision)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.yaml"), []byte("a: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c := fetchOK(t, l); c.Revision == a.Revision || !c.Changed || c.Previous != a.Revision {
		t.Fatalf("edited dir = %+v, want a new revision", c)
	}
}

func TestLocalGitWorkTree(t *testing.T) {
	repo := gittest.NewRepo(t, t.TempDir(), "app.git")
	head := repo.Commit("first", map[string]string{"jobs/a.yaml": "a: 1\n", "other/b": "b"})
	tests := []struct {
		name      string
		dir       string
		edit      map[string]string
		wantRev   string
		wantDirty bool
	}{
		{name: "clean", dir: repo.Work, wantRev: "main@sha1:" + head},
		{name: "sub-directory of a clean tree", dir: filepath.Join(repo.Work, "jobs"), wantRev: "main@sha1:" + head},
		{name: "edit elsewhere does not dirty the sub-directory", dir: filepath.Join(repo.Work, "jobs"), edit: map[string]string{"other/b": "c"}, wantRev: "main@sha1:" + head},
		{name: "dirty", dir: repo.Work, edit: map[string]string{"jobs/a.yaml": "a: 2\n"}, wantRev: "main@sha1:" + head + "+dirty:sha256:", wantDirty: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo.WriteFiles(tt.edit)
			defer repo.Git("checkout", "--", ".")
			l, err := NewLocal(LocalOptions{Dir: tt.dir})
			if err != nil {
				t.Fatal(err)
			}
			a := fetchOK(t, l)
			if !strings.HasPrefix(a.Revision, tt.wantRev) || a.Dirty != tt.wantDirty || a.Commit != head || a.Dir != tt.dir {
				t.Fatalf("fetch = %+v, want %s… dirty %t", a, tt.wantRev, tt.wantDirty)
			}
		})
	}
}

func TestLocalRejectsMissingDir(t *testing.T) {
	_, err := NewLocal(LocalOptions{Dir: filepath.Join(t.TempDir(), "nope")})
	wantErr(t, err, ErrInvalidOptions)
}

// TestLocalSymlinks: a local directory is handed out as it is, so a symlink
// that resolves outside it (or outside its Git working tree) is refused, as
// a Git checkout refuses one (ErrUnsafeSymlink), naming the link and its
// target.
func TestLocalSymlinks(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		git   bool              // the directory is jobs/ of a Git working tree
		links map[string]string // link (relative to the tree) -> target
		want  error
		named string // what the error must name
	}{
		{name: "inside", links: map[string]string{"jobs/l.yaml": "a.yaml"}},
		{name: "dangling", links: map[string]string{"jobs/l.yaml": "nope.yaml"}},
		{name: "absolute, outside", links: map[string]string{"jobs/l.yaml": outside}, want: ErrUnsafeSymlink, named: outside},
		{name: "climbs out", links: map[string]string{"jobs/l.yaml": "../../../../../../../../" + outside}, want: ErrUnsafeSymlink, named: "l.yaml"},
		{name: "chain of links", links: map[string]string{"jobs/l1": "l2", "jobs/l2": outside}, want: ErrUnsafeSymlink, named: outside},
		{name: "git: to a directory elsewhere in the work tree", git: true, links: map[string]string{"jobs/base": "../base"}},
		{name: "git: through a directory elsewhere in the work tree", git: true,
			links: map[string]string{"jobs/base": "../base", "base/s": outside}, want: ErrUnsafeSymlink, named: outside},
		{name: "git: out of the work tree", git: true, links: map[string]string{"jobs/l.yaml": outside}, want: ErrUnsafeSymlink, named: outside},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			files := map[string]string{"jobs/a.yaml": "a: 1\n", "base/b.yaml": "b: 1\n"}
			if tt.git {
				repo := gittest.NewRepo(t, t.TempDir(), "app.git")
				repo.Commit("first", files)
				root = repo.Work
			} else {
				writeTree(t, root, files)
			}
			for link, target := range tt.links {
				if err := os.Symlink(target, filepath.Join(root, filepath.FromSlash(link))); err != nil {
					t.Fatal(err)
				}
			}
			l, err := NewLocal(LocalOptions{Dir: filepath.Join(root, "jobs")})
			if err != nil {
				t.Fatal(err)
			}
			_, err = l.Fetch(context.Background())
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantErr(t, err, tt.want)
			if !strings.Contains(err.Error(), tt.named) {
				t.Fatalf("error %q does not name %q", err, tt.named)
			}
		})
	}
}

func writeTree(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
