package source

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestCachePermissions: whatever the umask (0 here), the cache's
// directories are 0700 and its files 0600; a cache made by an older
// version with open modes is tightened.
func TestCachePermissions(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	tests := []struct {
		name    string
		prepare func(t *testing.T, c cache)
	}{
		{name: "new cache"},
		{name: "existing cache with open modes", prepare: func(t *testing.T, c cache) {
			mustDo(t, os.MkdirAll(filepath.Join(c.dir, "checkouts"), 0o777))
			for _, d := range []string{filepath.Join(c.root, "git"), c.dir, filepath.Join(c.dir, "checkouts")} {
				mustDo(t, os.Chmod(d, 0o777))
			}
			mustDo(t, os.WriteFile(filepath.Join(c.dir, "lock"), nil, 0o666))
			mustDo(t, os.WriteFile(filepath.Join(c.dir, "state.json"), []byte("{}"), 0o666))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.repo.WriteFiles(map[string]string{"run.sh": "#!/bin/sh\n"})
			mustDo(t, os.Chmod(filepath.Join(f.repo.Work, "run.sh"), 0o755))
			f.repo.Commit("script", nil)
			g := f.git(t, filepath.Join(t.TempDir(), "cache"), nil)
			if tt.prepare != nil {
				tt.prepare(t, g.cache)
			}
			a := fetchOK(t, g)
			want := map[string]os.FileMode{
				filepath.Join(g.cache.root, "git"):       0o700,
				g.cache.dir:                              0o700,
				filepath.Join(g.cache.dir, "checkouts"):  0o700,
				filepath.Join(g.cache.dir, "lock"):       0o600,
				filepath.Join(g.cache.dir, "state.json"): 0o600,
				a.Root:                                   0o700,
				filepath.Join(a.Root, "jobs"):            0o700,
				filepath.Join(a.Root, "jobs/a.yaml"):     0o600,
				filepath.Join(a.Root, "run.sh"):          0o700,
			}
			if tt.prepare == nil { // an existing CacheDir is the operator's
				want[g.cache.root] = 0o700
			}
			for p, mode := range want {
				st, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if st.Mode().Perm() != mode {
					t.Errorf("%s: mode %o, want %o", p, st.Mode().Perm(), mode)
				}
			}
		})
	}
}

// TestCacheNotUsable: a cache directory this process's user does not own,
// or that is not a directory, is refused with an error that says so.
func TestCacheNotUsable(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, c cache)
	}{
		{name: "owned by another user", prepare: func(t *testing.T, c cache) {
			git := filepath.Join(c.root, "git")
			mustDo(t, os.MkdirAll(git, 0o777))
			mustDo(t, os.Chown(git, os.Getuid()+1000, os.Getgid()))
		}},
		{name: "a symlink", prepare: func(t *testing.T, c cache) {
			mustDo(t, os.MkdirAll(c.root, 0o700))
			mustDo(t, os.Symlink(t.TempDir(), filepath.Join(c.root, "git")))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			g := f.git(t, filepath.Join(t.TempDir(), "cache"), nil)
			tt.prepare(t, g.cache)
			_, err := g.Fetch(t.Context())
			wantErr(t, err, ErrCachePermission)
		})
	}
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestCachePermissionDenied: a process whose user may not write the cache
// directory (this test binary run as nobody, uid 65534) is told so plainly.
func TestCachePermissionDenied(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run a process as another user")
	}
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		mustDo(t, os.Chmod(d, 0o755))
	}
	bin := filepath.Join(dir, "source.test")
	self, err := os.ReadFile(os.Args[0])
	mustDo(t, err)
	mustDo(t, os.WriteFile(bin, self, 0o755))
	cache := filepath.Join(dir, "root-owned", "cache")
	mustDo(t, os.MkdirAll(filepath.Dir(cache), 0o755))

	cmd := exec.Command(bin, "-helper-fetch", "git://127.0.0.1:1/app.git|"+cache)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("fetch as uid 65534 into a root-owned directory succeeded: %s", out)
	}
	t.Logf("%s", out)
	for _, want := range []string{ErrCachePermission.Error(), "permission denied for uid 65534", "--cache-dir"} {
		if !strings.Contains(string(out), want) {
			t.Fatalf("error %q does not say %q", out, want)
		}
	}
}
