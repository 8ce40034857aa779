package source

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/jobsync/jobsync/internal/gittest"
)

// keepsLastGood checks that an artifact handed out earlier is still whole.
func keepsLastGood(t *testing.T, a Artifact, file, want string) {
	t.Helper()
	if got := readFile(t, a.Dir, file); got != want {
		t.Fatalf("last good checkout %s: %s = %q, want %q", a.Dir, file, got, want)
	}
}

func TestServerDownThenBack(t *testing.T) {
	f := newFixture(t)
	g := f.git(t, t.TempDir(), nil)
	good := fetchOK(t, g)
	f.daemon.Stop()
	next := f.repo.Commit("while down", map[string]string{"jobs/a.yaml": "a: 2\n"})
	_, err := g.Fetch(context.Background())
	wantErr(t, err, ErrUnreachable)
	keepsLastGood(t, good, "jobs/a.yaml", "a: 1\n")
	if err := f.daemon.Restart(); err != nil {
		t.Fatal(err)
	}
	if a := fetchOK(t, g); a.Revision != "main@sha1:"+next || a.Previous != good.Revision {
		t.Fatalf("after restart = %s (prev %s), want main@sha1:%s", a.Revision, a.Previous, next)
	}
}

func TestHTTPServerErrors(t *testing.T) {
	base := t.TempDir()
	gittest.NewRepo(t, base, "app.git").Commit("first", map[string]string{"a": "1"})
	h := gittest.StartHTTP(t, base, gittest.HTTPOptions{Username: "alice", Password: "right-pass"})
	tls := gittest.StartHTTP(t, base, gittest.HTTPOptions{TLS: true})
	tests := []struct {
		name   string
		url    string
		auth   Auth
		refuse int
		want   error
	}{
		{name: "wrong password", url: h.URL("app.git"), auth: Auth{Username: "alice", Password: "wrong-pass-123"}, want: ErrAuth},
		{name: "wrong password in url", url: strings.Replace(h.URL("app.git"), "http://", "http://alice:wrong-pass-123@", 1), want: ErrAuth},
		{name: "no credentials", url: h.URL("app.git"), want: ErrAuth},
		{name: "wrong bearer token", url: h.URL("app.git"), auth: Auth{BearerToken: "wrong-pass-123"}, want: ErrAuth},
		{name: "server refusing with 503", url: h.URL("app.git"), auth: Auth{Username: "alice", Password: "right-pass"}, refuse: 503, want: ErrUnreachable},
		{name: "unknown CA", url: tls.URL("app.git"), want: ErrTLS},
		{name: "no such repository", url: h.URL("nope.git"), auth: Auth{Username: "alice", Password: "right-pass"}, want: ErrRepoNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h.Refuse(tt.refuse)
			defer h.Refuse(0)
			g := newGit(t, func(o *GitOptions) {
				o.URL, o.Ref, o.CacheDir, o.Auth = tt.url, Ref{Branch: "main"}, t.TempDir(), tt.auth
			})
			_, err := g.Fetch(context.Background())
			wantErr(t, err, tt.want, "wrong-pass-123", "right-pass")
		})
	}
}

func TestSSHHostKeyVerification(t *testing.T) {
	base := t.TempDir()
	gittest.NewRepo(t, base, "app.git").Commit("first", map[string]string{"a": "1"})
	s := gittest.StartSSHD(t, base, gittest.SSHOptions{})
	_, otherKey := gittest.NewSSHKey(t, "")
	tests := []struct {
		name       string
		knownHosts []byte
		insecure   bool
		want       error
	}{
		{name: "unknown host", knownHosts: nil, want: ErrHostKeyUnknown},
		{name: "changed host key", knownHosts: []byte(gittest.KnownHostsLine(s.Addr(), otherKey) + "\n"), want: ErrHostKeyChanged},
		{name: "insecure skip", knownHosts: nil, insecure: true},
		{name: "known host", knownHosts: s.KnownHosts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGit(t, func(o *GitOptions) {
				o.URL, o.Ref, o.CacheDir = s.URL("app.git"), Ref{Branch: "main"}, t.TempDir()
				o.Auth = Auth{SSHKey: s.ClientKeyPEM, KnownHosts: tt.knownHosts, InsecureSkipHostKeyCheck: tt.insecure}
			})
			a, err := g.Fetch(context.Background())
			if tt.want == nil {
				if err != nil || readFile(t, a.Dir, "a") != "1" {
					t.Fatalf("fetch: %v", err)
				}
				return
			}
			wantErr(t, err, tt.want, string(s.ClientKeyPEM))
		})
	}
}

func TestSSHWrongKey(t *testing.T) {
	base := t.TempDir()
	gittest.NewRepo(t, base, "app.git").Commit("first", nil)
	s := gittest.StartSSHD(t, base, gittest.SSHOptions{})
	other, _ := gittest.NewSSHKey(t, "")
	g := newGit(t, func(o *GitOptions) {
		o.URL, o.Ref, o.CacheDir = s.URL("app.git"), Ref{Branch: "main"}, t.TempDir()
		o.Auth = Auth{SSHKey: other, KnownHosts: s.KnownHosts}
	})
	_, err := g.Fetch(context.Background())
	wantErr(t, err, ErrAuth)
}

func TestUnknownRef(t *testing.T) {
	f := newFixture(t)
	for _, ref := range []Ref{{Branch: "nope"}, {Tag: "v9"}, {SemVer: ">=5.0.0"}, {Commit: strings.Repeat("ab", 20)}, {Name: "missing"}} {
		t.Run(ref.String(), func(t *testing.T) {
			g := f.git(t, t.TempDir(), func(o *GitOptions) { o.Ref = ref })
			_, err := g.Fetch(context.Background())
			wantErr(t, err, ErrUnknownRef)
		})
	}
}

func TestUnknownPath(t *testing.T) {
	f := newFixture(t)
	g := f.git(t, t.TempDir(), func(o *GitOptions) { o.Path = "nope" })
	_, err := g.Fetch(context.Background())
	wantErr(t, err, ErrPathNotFound)
}

func TestForcePushIsFollowedAndReported(t *testing.T) {
	tests := []struct {
		name    string
		ref     Ref
		full    bool
		rewrite func(f *fixture) string
	}{
		{name: "full-history cache", ref: Ref{Branch: "main"}, full: true, rewrite: func(f *fixture) string {
			f.repo.Reset(f.first)
			f.repo.Commit("rewritten 1", map[string]string{"jobs/a.yaml": "a: x\n"})
			return f.repo.Commit("rewritten 2", map[string]string{"jobs/a.yaml": "a: y\n"})
		}},
		{name: "new history on an older commit", ref: Ref{Name: "main"}, rewrite: func(f *fixture) string {
			f.repo.Reset(f.first)
			return f.repo.Commit("rewritten", map[string]string{"jobs/a.yaml": "a: rewritten\n"})
		}},
		{name: "branch moved back", ref: Ref{Branch: "main"}, rewrite: func(f *fixture) string {
			f.repo.ForcePush(f.first)
			return f.first
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			f.repo.Commit("second", map[string]string{"jobs/a.yaml": "a: 2\n"})
			g := f.git(t, t.TempDir(), func(o *GitOptions) { o.Ref, o.Shallow = tt.ref, !tt.full })
			before := fetchOK(t, g)
			want := tt.rewrite(f)
			a := fetchOK(t, g)
			if a.Revision != "main@sha1:"+want || !a.Rewritten() || a.Previous != before.Revision {
				t.Fatalf("after force-push = %s (%s, prev %s), want main@sha1:%s rewritten", a.Revision, a.History, a.Previous, want)
			}
			keepsLastGood(t, before, "jobs/a.yaml", "a: 2\n")
		})
	}
}

func TestMaxSize(t *testing.T) {
	random := make([]byte, 3<<20)
	_, _ = rand.Read(random)
	tests := []struct {
		name, content string
	}{
		{name: "fetch over the limit", content: string(random)},
		{name: "checkout over the limit (compresses well)", content: strings.Repeat("0", 3<<20)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			g := f.git(t, t.TempDir(), func(o *GitOptions) { o.MaxSize = 1 << 20 })
			good := fetchOK(t, g)
			f.repo.Commit("big", map[string]string{"big.bin": tt.content})
			_, err := g.Fetch(context.Background())
			wantErr(t, err, ErrTooLarge)
			keepsLastGood(t, good, "jobs/a.yaml", "a: 1\n")
		})
	}
}

func TestSymlinks(t *testing.T) {
	tests := []struct {
		name, link, target string
		want               error
	}{
		{name: "inside", link: "jobs/l.yaml", target: "a.yaml"},
		{name: "parent escape", link: "jobs/l.yaml", target: "../../outside"},
		{name: "absolute", link: "l", target: "/etc/passwd", want: ErrUnsafeSymlink},
		{name: "dot dot", link: "l", target: "..", want: ErrUnsafeSymlink},
	}
	tests[1].want = ErrUnsafeSymlink
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			g := f.git(t, t.TempDir(), nil)
			good := fetchOK(t, g)
			f.repo.Symlink(tt.link, tt.target)
			f.repo.Commit("link", nil)
			a, err := g.Fetch(context.Background())
			if tt.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if got := readFile(t, a.Dir, tt.link); got != "a: 1\n" {
					t.Fatalf("through the link: %q", got)
				}
				return
			}
			wantErr(t, err, tt.want)
			keepsLastGood(t, good, "jobs/a.yaml", "a: 1\n")
			if tmp, _ := filepath.Glob(filepath.Join(filepath.Dir(good.Root), ".tmp-*")); len(tmp) != 0 {
				t.Fatalf("half-written checkouts left behind: %v", tmp)
			}
			if ents, _ := os.ReadDir(filepath.Dir(good.Root)); len(ents) != 1 {
				t.Fatalf("checkouts = %d entries, want only the last good one", len(ents))
			}
		})
	}
}

func TestSubmodules(t *testing.T) {
	f := newFixture(t)
	lib := gittest.NewRepo(t, f.base, "lib.git")
	libHead := lib.Commit("lib", map[string]string{"lib.yaml": "lib: 1\n"})
	f.repo.AddSubmodule("vendor/lib", "../lib.git", libHead)
	f.repo.Commit("add submodule", nil)
	t.Run("off by default", func(t *testing.T) {
		a := fetchOK(t, f.git(t, t.TempDir(), nil))
		if len(a.SkippedSubmodules) != 1 || a.SkippedSubmodules[0] != "vendor/lib" {
			t.Fatalf("skipped = %v, want [vendor/lib]", a.SkippedSubmodules)
		}
		if ents, err := os.ReadDir(filepath.Join(a.Root, "vendor/lib")); err != nil || len(ents) != 0 {
			t.Fatalf("vendor/lib = %v, %v; want an empty directory", ents, err)
		}
	})
	t.Run("recursed when asked", func(t *testing.T) {
		a := fetchOK(t, f.git(t, t.TempDir(), func(o *GitOptions) { o.RecurseSubmodules = true }))
		if len(a.SkippedSubmodules) != 0 || readFile(t, a.Root, "vendor/lib/lib.yaml") != "lib: 1\n" {
			t.Fatalf("skipped = %v, want the submodule checked out", a.SkippedSubmodules)
		}
	})
}

func TestCorruptCacheIsRecloned(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(t *testing.T, repoDir string)
	}{
		{name: "garbled packs", corrupt: func(t *testing.T, repoDir string) {
			packs, _ := filepath.Glob(filepath.Join(repoDir, "objects/pack/*"))
			if len(packs) == 0 {
				t.Fatal("no pack files to corrupt")
			}
			for _, p := range packs {
				if err := os.WriteFile(p, []byte("garbage"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}},
		{name: "missing objects", corrupt: func(t *testing.T, repoDir string) {
			if err := os.RemoveAll(filepath.Join(repoDir, "objects")); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "garbled config", corrupt: func(t *testing.T, repoDir string) {
			if err := os.WriteFile(filepath.Join(repoDir, "config"), []byte("[[[ nonsense"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			cache := t.TempDir()
			first := fetchOK(t, f.git(t, cache, nil))
			next := f.repo.Commit("second", map[string]string{"jobs/a.yaml": "a: 2\n"})
			dirs, _ := filepath.Glob(filepath.Join(cache, "git", "*", "shallow.git"))
			if len(dirs) != 1 {
				t.Fatalf("cache repositories = %v", dirs)
			}
			tt.corrupt(t, dirs[0])
			a := fetchOK(t, f.git(t, cache, nil))
			if a.Revision != "main@sha1:"+next || a.CacheReset == "" {
				t.Fatalf("after corruption = %s (reset %q), want main@sha1:%s and a reset", a.Revision, a.CacheReset, next)
			}
			if readFile(t, a.Dir, "jobs/a.yaml") != "a: 2\n" {
				t.Fatal("wrong content after re-clone")
			}
			keepsLastGood(t, first, "jobs/a.yaml", "a: 1\n")
		})
	}
}

func TestSignatureVerification(t *testing.T) {
	trusted, err := openpgp.NewEntity("Release Bot", "", "bot@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := openpgp.NewEntity("Stranger", "", "x@example.com", nil)
	if err != nil {
		t.Fatal(err)
	}
	var ring bytes.Buffer
	if err := trusted.Serialize(&ring); err != nil {
		t.Fatal(err)
	}
	signer := func(e *openpgp.Entity) func([]byte) ([]byte, error) {
		return func(p []byte) ([]byte, error) {
			var sig bytes.Buffer
			err := openpgp.ArmoredDetachSign(&sig, e, bytes.NewReader(p), nil)
			return sig.Bytes(), err
		}
	}
	tests := []struct {
		name string
		sign func([]byte) ([]byte, error)
		want error
	}{
		{name: "signed by a trusted key", sign: signer(trusted)},
		{name: "unsigned", want: ErrSignature},
		{name: "signed by another key", sign: signer(stranger), want: ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			if tt.sign != nil {
				f.repo.SignHead(tt.sign)
			}
			a, err := f.git(t, t.TempDir(), func(o *GitOptions) { o.Keyring = ring.Bytes() }).Fetch(context.Background())
			if tt.want != nil {
				wantErr(t, err, tt.want)
				return
			}
			if err != nil || !strings.Contains(a.Signer, "Release Bot") {
				t.Fatalf("fetch = %+v, %v; want signed by Release Bot", a, err)
			}
		})
	}
}
