package source

import (
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
