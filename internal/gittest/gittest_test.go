package gittest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cliEnv returns environment entries that make the git CLI use the server's
// credentials, and the URL to give it.
type cliServer struct {
	url string
	env []string
}

func startServers(t *testing.T, base string) map[string]cliServer {
	t.Helper()
	d := StartDaemon(t, base)
	h := StartHTTP(t, base, HTTPOptions{})
	ha := StartHTTP(t, base, HTTPOptions{Username: "alice", Password: "s3cret-pw", TLS: true})
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	writeFile(t, caFile, ha.CAPEM, 0o600)
	s := StartSSHD(t, base, SSHOptions{})
	dir := t.TempDir()
	key, kh := filepath.Join(dir, "id"), filepath.Join(dir, "known_hosts")
	writeFile(t, key, s.ClientKeyPEM, 0o600)
	writeFile(t, kh, s.KnownHosts, 0o600)
	sshCmd := fmt.Sprintf("ssh -F /dev/null -i %s -o IdentitiesOnly=yes -o UserKnownHostsFile=%s -o StrictHostKeyChecking=yes -o BatchMode=yes", key, kh)
	return map[string]cliServer{
		"git daemon": {url: d.URL("app.git")},
		"http":       {url: h.URL("app.git")},
		"https basic auth": {
			url: strings.Replace(ha.URL("app.git"), "https://", "https://alice:s3cret-pw@", 1),
			env: []string{"GIT_SSL_CAINFO=" + caFile},
		},
		"sshd": {url: s.URL("app.git"), env: []string{"GIT_SSH_COMMAND=" + sshCmd}},
	}
}

func TestServersServeRealClones(t *testing.T) {
	base := t.TempDir()
	repo := NewRepo(t, base, "app.git")
	first := repo.Commit("first", map[string]string{"a.yaml": "a: 1\n"})
	repo.AnnotatedTag("v1.0.0", "", "release")
	second := repo.Commit("second", map[string]string{"a.yaml": "a: 2\n"})
	for name, srv := range startServers(t, base) {
		t.Run(name, func(t *testing.T) {
			out, err := runGit(t.TempDir(), srv.env, nil, "ls-remote", srv.url)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, second+"\trefs/heads/main") || !strings.Contains(out, first+"\trefs/tags/v1.0.0^{}") {
				t.Fatalf("ls-remote = %q, want main at %s and v1.0.0 peeled to %s", out, second, first)
			}
			dst := filepath.Join(t.TempDir(), "clone")
			if _, err := runGit(filepath.Dir(dst), srv.env, nil, "clone", "--quiet", "--depth=1", srv.url, dst); err != nil {
				t.Fatal(err)
			}
			if b, err := os.ReadFile(filepath.Join(dst, "a.yaml")); err != nil || string(b) != "a: 2\n" {
				t.Fatalf("a.yaml = %q, %v; want a: 2", b, err)
			}
		})
	}
}

func TestHTTPAuthAndRefusal(t *testing.T) {
	base := t.TempDir()
	repo := NewRepo(t, base, "app.git")
	repo.Commit("first", nil)
	h := StartHTTP(t, base, HTTPOptions{Username: "alice", Password: "pw", Token: "tok"})
	tests := []struct {
		name    string
		url     string
		extra   []string
		refuse  int
		wantErr string
	}{
		{name: "no credentials", url: h.URL("app.git"), wantErr: "could not read Username"},
		{name: "wrong password", url: strings.Replace(h.URL("app.git"), "http://", "http://alice:nope@", 1), wantErr: "Authentication failed"},
		{name: "basic auth", url: strings.Replace(h.URL("app.git"), "http://", "http://alice:pw@", 1)},
		{name: "bearer token", url: h.URL("app.git"), extra: []string{"-c", "http.extraHeader=Authorization: Bearer tok"}},
		{name: "refusing with 503", url: strings.Replace(h.URL("app.git"), "http://", "http://alice:pw@", 1), refuse: 503, wantErr: "503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.Refuse(tt.refuse)
			defer h.Refuse(0)
			args := append(append([]string{}, tt.extra...), "ls-remote", tt.url)
			_, err := runGit(t.TempDir(), nil, nil, args...)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatal(err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
	if st := h.Stats(); st.Unauthorized < 2 || st.InfoRefs < 2 {
		t.Fatalf("stats = %+v, want >= 2 unauthorized and >= 2 ref advertisements", st)
	}
}

func TestStopRestart(t *testing.T) {
	base := t.TempDir()
	NewRepo(t, base, "app.git").Commit("first", nil)
	d := StartDaemon(t, base)
	d.Stop()
	if _, err := runGit(t.TempDir(), nil, nil, "ls-remote", d.URL("app.git")); err == nil {
		t.Fatal("ls-remote on a stopped daemon succeeded")
	}
	if err := d.Restart(); err != nil {
		t.Fatal(err)
	}
	if _, err := runGit(t.TempDir(), nil, nil, "ls-remote", d.URL("app.git")); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}

func TestRepoBuilders(t *testing.T) {
	base := t.TempDir()
	repo := NewRepo(t, base, "app.git")
	a := repo.Commit("a", map[string]string{"f": "1"})
	b := repo.Commit("b", map[string]string{"f": "2"})
	repo.ForcePush(a)
	c := repo.Commit("c", map[string]string{"f": "3"})
	if got := strings.TrimSpace(mustGit(t, repo.Bare, "rev-parse", "main")); got != c {
		t.Fatalf("bare main = %s, want %s", got, c)
	}
	if _, err := runGit(repo.Bare, nil, nil, "merge-base", "--is-ancestor", b, c); err == nil {
		t.Fatalf("%s is still an ancestor of %s after the force-push", b, c)
	}
	repo.Symlink("link", "../outside")
	lib := NewRepo(t, base, "lib.git")
	libHead := lib.Commit("lib", map[string]string{"x": "y"})
	repo.AddSubmodule("vendor/lib", "../lib.git", libHead)
	repo.Commit("links", nil)
	tree := mustGit(t, repo.Bare, "ls-tree", "-r", "main")
	if !strings.Contains(tree, "120000 blob") || !strings.Contains(tree, "160000 commit "+libHead+"\tvendor/lib") {
		t.Fatalf("tree = %s, want a symlink and a submodule", tree)
	}
	sig := "-----BEGIN PGP SIGNATURE-----\n\nxyz\n-----END PGP SIGNATURE-----\n"
	signed := repo.SignHead(func(p []byte) ([]byte, error) { return []byte(sig), nil })
	raw := mustGit(t, repo.Bare, "cat-file", "commit", signed)
	if !strings.Contains(raw, "gpgsig -----BEGIN PGP SIGNATURE-----\n \n xyz\n") {
		t.Fatalf("signed commit = %q, want a gpgsig header", raw)
	}
}

func TestLargeRepo(t *testing.T) {
	src := LargeRepo(t, 300, 7)
	if again := LargeRepo(t, 300, 7); again != src {
		t.Fatalf("second call = %s, want the cached %s", again, src)
	}
	if n := strings.TrimSpace(mustGit(t, src, "rev-list", "--count", "main")); n != "300" {
		t.Fatalf("commits = %s, want 300", n)
	}
	repo := ImportRepo(t, t.TempDir(), "big.git", src)
	head := repo.Commit("one more", map[string]string{"new.yaml": "x: 1\n"})
	if got := strings.TrimSpace(mustGit(t, src, "rev-parse", "main")); got == head {
		t.Fatal("pushing to the imported copy changed the cached repository")
	}
	files := mustGit(t, repo.Bare, "ls-tree", "-r", "--name-only", "main")
	if n := strings.Count(files, "jobs/job-"); n != 7 {
		t.Fatalf("files = %d, want 7", n)
	}
}
