package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jobsync/jobsync/internal/gittest"
)

// fetchOK fetches and fails the test on error.
func fetchOK(t *testing.T, s Source) Artifact {
	t.Helper()
	a, err := s.Fetch(context.Background())
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	return a
}

func newGit(t *testing.T, mutate func(*GitOptions)) *Git {
	t.Helper()
	opts := DefaultGitOptions()
	mutate(&opts)
	g, err := NewGit(opts)
	if err != nil {
		t.Fatalf("NewGit: %v", err)
	}
	return g
}

func readFile(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return string(b)
}

// wantErr checks that err wraps want and says none of secrets.
func wantErr(t *testing.T, err, want error, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %v", want)
	}
	if want != nil && !errors.Is(err, want) {
		t.Fatalf("err = %v, want it to wrap %v", err, want)
	}
	t.Logf("error: %v", err)
	noSecret(t, err.Error(), secrets...)
}

// testSecrets are every credential the tests use; no error may show one.
var testSecrets = []string{"s3cret-pw", "tok-123456", "key-pass-phrase", "wrong-pass-123", "right-pass",
	"pw-123456", "tok-abcdef", "secret-pw", "hunter22", "PRIVATE KEY"}

func noSecret(t *testing.T, s string, secrets ...string) {
	t.Helper()
	for _, sec := range append(secrets, testSecrets...) {
		if sec != "" && strings.Contains(s, sec) {
			t.Fatalf("%q contains the secret %q", s, sec)
		}
	}
}

// fixture is a repository served by a git daemon, with one commit.
type fixture struct {
	base   string
	repo   *gittest.Repo
	daemon *gittest.Daemon
	first  string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{base: t.TempDir()}
	f.repo = gittest.NewRepo(t, f.base, "app.git")
	f.first = f.repo.Commit("first", map[string]string{"jobs/a.yaml": "a: 1\n", "README": "hi\n"})
	f.daemon = gittest.StartDaemon(t, f.base)
	return f
}

func (f *fixture) git(t *testing.T, cache string, mutate func(*GitOptions)) *Git {
	t.Helper()
	return newGit(t, func(o *GitOptions) {
		o.URL, o.Ref, o.CacheDir = f.daemon.URL("app.git"), Ref{Branch: "main"}, cache
		if mutate != nil {
			mutate(o)
		}
	})
}
