package source

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jobsync/jobsync/internal/gittest"
)

// TestFetchOverEveryTransport fetches, polls and follows a new commit over
// git://, smart HTTP, HTTPS with basic auth and a private CA, HTTP with a
// bearer token and SSH with known_hosts.
func TestFetchOverEveryTransport(t *testing.T) {
	base := t.TempDir()
	repo := gittest.NewRepo(t, base, "app.git")
	first := repo.Commit("first", map[string]string{"jobs/a.yaml": "a: 1\n"})
	d := gittest.StartDaemon(t, base)
	h := gittest.StartHTTP(t, base, gittest.HTTPOptions{})
	hs := gittest.StartHTTP(t, base, gittest.HTTPOptions{Username: "alice", Password: "s3cret-pw", TLS: true})
	ht := gittest.StartHTTP(t, base, gittest.HTTPOptions{Token: "tok-123456"})
	s := gittest.StartSSHD(t, base, gittest.SSHOptions{Passphrase: "key-pass-phrase"})
	tests := []struct {
		name string
		url  string
		auth Auth
	}{
		{name: "git daemon", url: d.URL("app.git")},
		{name: "smart http", url: h.URL("app.git")},
		{name: "https basic auth with custom CA", url: hs.URL("app.git"), auth: Auth{Username: "alice", Password: "s3cret-pw", CABundle: hs.CAPEM}},
		{name: "https userinfo in url", url: strings.Replace(hs.URL("app.git"), "https://", "https://alice:s3cret-pw@", 1), auth: Auth{CABundle: hs.CAPEM}},
		{name: "http bearer token", url: ht.URL("app.git"), auth: Auth{BearerToken: "tok-123456"}},
		{name: "ssh with known_hosts and passphrase", url: s.URL("app.git"), auth: Auth{SSHKey: s.ClientKeyPEM, SSHPassphrase: "key-pass-phrase", KnownHosts: s.KnownHosts}},
	}
	var second string
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGit(t, func(o *GitOptions) {
				o.URL, o.Ref, o.CacheDir, o.Auth, o.Path = tt.url, Ref{Branch: "main"}, t.TempDir(), tt.auth, "jobs"
			})
			noSecret(t, g.String(), "s3cret-pw")
			a := fetchOK(t, g)
			if i == 0 {
				second = ""
			}
			want := "main@sha1:" + repo.Head()
			if a.Revision != want || a.History != HistoryInitial || !a.Changed {
				t.Fatalf("first fetch = %s (%s, changed %t), want %s initial", a.Revision, a.History, a.Changed, want)
			}
			if got := readFile(t, a.Dir, "a.yaml"); !strings.HasPrefix(got, "a: ") {
				t.Fatalf("a.yaml = %q", got)
			}
			if a.Dir != filepath.Join(a.Root, "jobs") {
				t.Fatalf("Dir = %s, want Root/jobs", a.Dir)
			}
			again := fetchOK(t, g)
			if again.Revision != a.Revision || again.Changed || again.History != HistoryUnchanged || again.Dir != a.Dir {
				t.Fatalf("poll = %+v, want unchanged %s", again, a.Revision)
			}
			second = repo.Commit(fmt.Sprintf("change %d", i), map[string]string{"jobs/a.yaml": fmt.Sprintf("a: %d\n", i+2)})
			b := fetchOK(t, g)
			if b.Revision != "main@sha1:"+second || b.History != HistoryFastForward || b.Previous != a.Revision {
				t.Fatalf("after a commit = %s (%s, prev %s), want main@sha1:%s fast-forward", b.Revision, b.History, b.Previous, second)
			}
			if got := readFile(t, b.Dir, "a.yaml"); got != fmt.Sprintf("a: %d\n", i+2) {
				t.Fatalf("a.yaml = %q", got)
			}
			if got := readFile(t, a.Dir, "a.yaml"); got == readFile(t, b.Dir, "a.yaml") {
				t.Fatalf("the earlier checkout changed: %q", got)
			}
			noSecret(t, fmt.Sprintf("%+v", b), "s3cret-pw", "tok-123456", "key-pass-phrase")
		})
	}
	_ = first
}

func TestRefKinds(t *testing.T) {
	f := newFixture(t)
	f.repo.AnnotatedTag("v1.2.0", "", "release 1.2.0")
	v120 := f.repo.Head()
	mid := f.repo.Commit("second", map[string]string{"jobs/a.yaml": "a: 2\n"})
	f.repo.Tag("v1.3.0", "")
	f.repo.Commit("third", map[string]string{"jobs/a.yaml": "a: 3\n"})
	f.repo.Tag("v2.0.0", "")
	f.repo.Switch("release", f.first)
	rel := f.repo.Commit("on release", map[string]string{"jobs/a.yaml": "a: r\n"})
	tests := []struct {
		name, ref, wantRev, wantA string
	}{
		{name: "branch", ref: "release", wantRev: "release@sha1:" + rel, wantA: "a: r\n"},
		{name: "annotated tag", ref: "tag:v1.2.0", wantRev: "v1.2.0@sha1:" + v120, wantA: "a: 1\n"},
		{name: "lightweight tag", ref: "refs/tags/v1.3.0", wantRev: "v1.3.0@sha1:" + mid, wantA: "a: 2\n"},
		{name: "semver range", ref: ">=1.2.0 <2.0.0", wantRev: "v1.3.0@sha1:" + mid, wantA: "a: 2\n"},
		{name: "semver range with annotated tag", ref: "~1.2", wantRev: "v1.2.0@sha1:" + v120, wantA: "a: 1\n"},
		{name: "server HEAD (default branch)", ref: "HEAD", wantRev: "main@sha1:" + f.repo.RevParse("main"), wantA: "a: 3\n"},
		{name: "exact commit", ref: mid, wantRev: "sha1:" + mid, wantA: "a: 2\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, err := ParseRef(tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			g := f.git(t, t.TempDir(), func(o *GitOptions) { o.Ref = ref })
			a := fetchOK(t, g)
			if a.Revision != tt.wantRev {
				t.Fatalf("revision = %s, want %s", a.Revision, tt.wantRev)
			}
			if got := readFile(t, a.Dir, "jobs/a.yaml"); got != tt.wantA {
				t.Fatalf("a.yaml = %q, want %q", got, tt.wantA)
			}
		})
	}
}

// TestSharedCacheConcurrent runs fetches of two refs from several
// goroutines and two Git values on one cache directory.
func TestSharedCacheConcurrent(t *testing.T) {
	f := newFixture(t)
	f.repo.Tag("v1.0.0", "")
	head := f.repo.Commit("second", map[string]string{"b": "b"})
	cache := t.TempDir()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		ref := Ref{Branch: "main"}
		if i%2 == 1 {
			ref = Ref{Tag: "v1.0.0"}
		}
		g := f.git(t, cache, func(o *GitOptions) { o.Ref = ref })
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := g.Fetch(context.Background())
			switch {
			case err != nil:
				errs <- err
			case ref.Branch != "" && a.Revision != "main@sha1:"+head:
				errs <- fmt.Errorf("revision %s", a.Revision)
			case ref.Tag != "" && a.Revision != "v1.0.0@sha1:"+f.first:
				errs <- fmt.Errorf("revision %s", a.Revision)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestCacheReusedAcrossInstances: a new Git value on the same cache (an
// agent restart) reports the previous revision and fetches nothing new.
func TestCacheReusedAcrossInstances(t *testing.T) {
	base := t.TempDir()
	repo := gittest.NewRepo(t, base, "app.git")
	repo.Commit("first", map[string]string{"a": "1"})
	h := gittest.StartHTTP(t, base, gittest.HTTPOptions{})
	cache := t.TempDir()
	mk := func() *Git {
		return newGit(t, func(o *GitOptions) { o.URL, o.Ref, o.CacheDir = h.URL("app.git"), Ref{Branch: "main"}, cache })
	}
	a := fetchOK(t, mk())
	before := h.Stats()
	b := fetchOK(t, mk())
	after := h.Stats()
	if b.Revision != a.Revision || b.Previous != a.Revision || b.Changed || b.History != HistoryUnchanged {
		t.Fatalf("restart fetch = %+v, want unchanged %s", b, a.Revision)
	}
	if after.UploadPacks != before.UploadPacks {
		t.Fatalf("a no-change poll negotiated a pack (%d -> %d upload-packs)", before.UploadPacks, after.UploadPacks)
	}
	if b.Root != a.Root {
		t.Fatalf("checkout %s, want the cached %s", b.Root, a.Root)
	}
}

func TestParseRef(t *testing.T) {
	tests := []struct {
		in   string
		want Ref
		bad  bool
	}{
		{in: "main", want: Ref{Name: "main"}},
		{in: "branch:main", want: Ref{Branch: "main"}},
		{in: "refs/heads/dev", want: Ref{Branch: "dev"}},
		{in: "tag:v1", want: Ref{Tag: "v1"}},
		{in: ">=1.0.0 <2.0.0", want: Ref{SemVer: ">=1.0.0 <2.0.0"}},
		{in: strings.Repeat("a", 40), want: Ref{Commit: strings.Repeat("a", 40)}},
		{in: "commit:abc", bad: true},
		{in: "semver:not a range", bad: true},
		{in: "", bad: true},
		{in: "-rf", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseRef(tt.in)
			if tt.bad {
				wantErr(t, err, ErrInvalidOptions)
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseRef(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestNewGitRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*GitOptions)
	}{
		{name: "no url", mutate: func(o *GitOptions) { o.URL = "" }},
		{name: "bad scheme", mutate: func(o *GitOptions) { o.URL = "ftp://x/y" }},
		{name: "no ref", mutate: func(o *GitOptions) { o.Ref = Ref{} }},
		{name: "path escapes", mutate: func(o *GitOptions) { o.Path = "../x" }},
		{name: "no cache", mutate: func(o *GitOptions) { o.CacheDir = "" }},
		{name: "ssh without key", mutate: func(o *GitOptions) { o.URL = "ssh://git@example.com/x.git" }},
		{name: "bad keyring", mutate: func(o *GitOptions) { o.Keyring = []byte("nope") }},
		{name: "bad ca", mutate: func(o *GitOptions) { o.Auth.CABundle = []byte("nope") }},
		{name: "bad ssh key", mutate: func(o *GitOptions) { o.URL, o.Auth.SSHKey = "ssh://git@h/x", []byte("nope") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := DefaultGitOptions()
			o.URL, o.Ref, o.CacheDir = "https://u:hunter22@example.com/x.git", Ref{Branch: "main"}, t.TempDir()
			tt.mutate(&o)
			_, err := NewGit(o)
			wantErr(t, err, ErrInvalidOptions, "hunter22")
		})
	}
	_ = os.Getpid
}

func TestSecretsNeverInURLs(t *testing.T) {
	tests := []struct{ in, secret string }{
		{in: "https://alice:pw-123456@127.0.0.1:1/x.git", secret: "pw-123456"},
		{in: "http://tok-abcdef@127.0.0.1:1/x.git", secret: "tok-abcdef"},
	}
	for _, tt := range tests {
		t.Run(tt.secret, func(t *testing.T) {
			g := newGit(t, func(o *GitOptions) { o.URL, o.Ref, o.CacheDir = tt.in, Ref{Branch: "main"}, t.TempDir() })
			noSecret(t, g.String(), tt.secret)
			_, err := g.Fetch(context.Background()) // nothing listens on port 1
			wantErr(t, err, ErrUnreachable, tt.secret)
		})
	}
	_, err := NewGit(GitOptions{URL: "git:secret-pw@host:x.git", Ref: Ref{Branch: "main"}, CacheDir: t.TempDir()})
	wantErr(t, err, ErrInvalidOptions, "secret-pw")
}

// TestLockWaitHonoursContext: a fetch waiting for another holder of the
// cache lock gives up when its context ends, and the lock still works.
func TestLockWaitHonoursContext(t *testing.T) {
	f := newFixture(t)
	cache := t.TempDir()
	g := f.git(t, cache, nil)
	unlock, err := g.cache.lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = g.Fetch(ctx)
	wantErr(t, err, context.Canceled)
	unlock()
	if a := fetchOK(t, g); a.Revision != "main@sha1:"+f.first {
		t.Fatalf("after unlock = %s", a.Revision)
	}
}
