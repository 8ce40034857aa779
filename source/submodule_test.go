package source

import (
	"testing"

	"github.com/jobsync/jobsync/internal/gittest"
)

// TestSubmoduleCredentialsStayWithTheirOrigin: a commit's .gitmodules names
// a submodule on another server (another port of loopback, so another
// host:port); the credentials given for --repo go to --repo's server only,
// and the other server never sees an Authorization header. A relative
// submodule on --repo's own server still gets them.
func TestSubmoduleCredentialsStayWithTheirOrigin(t *testing.T) {
	tests := []struct {
		name string
		srv  gittest.HTTPOptions
		auth Auth
	}{
		{name: "basic auth", srv: gittest.HTTPOptions{Username: "bot", Password: "s3cret-pw"}, auth: Auth{Username: "bot", Password: "s3cret-pw"}},
		{name: "bearer token", srv: gittest.HTTPOptions{Token: "tok-123456"}, auth: Auth{BearerToken: "tok-123456"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, otherBase := t.TempDir(), t.TempDir()
			own := gittest.StartHTTP(t, base, tt.srv)
			other := gittest.StartHTTP(t, otherBase, gittest.HTTPOptions{})
			lib := gittest.NewRepo(t, otherBase, "lib.git")
			libHead := lib.Commit("lib", map[string]string{"lib.yaml": "lib: 1\n"})
			same := gittest.NewRepo(t, base, "same.git")
			sameHead := same.Commit("same", map[string]string{"same.yaml": "same: 1\n"})
			app := gittest.NewRepo(t, base, "app.git")
			app.AddSubmodule("vendor/lib", other.URL("lib.git"), libHead)
			app.AddSubmodule("vendor/same", "../same.git", sameHead)
			app.Commit("submodules", map[string]string{"jobs/a.yaml": "a: 1\n"})

			a := fetchOK(t, newGit(t, func(o *GitOptions) {
				o.URL, o.Ref, o.CacheDir, o.Auth = own.URL("app.git"), Ref{Branch: "main"}, t.TempDir(), tt.auth
				o.RecurseSubmodules = true
			}))
			if got := other.Stats().WithAuthorization; got != 0 {
				t.Fatalf("the submodule's server (another host:port) got %d requests with an Authorization header, want 0", got)
			}
			if readFile(t, a.Root, "vendor/lib/lib.yaml") != "lib: 1\n" || readFile(t, a.Root, "vendor/same/same.yaml") != "same: 1\n" {
				t.Fatal("submodules not checked out")
			}
			if own.Stats().WithAuthorization == 0 {
				t.Fatal("--repo's own server got no credentials")
			}
		})
	}
}

func TestRemoteOrigin(t *testing.T) {
	tests := []struct {
		name, a, b string
		same       bool
	}{
		{name: "default https port", a: "https://git.example.com/a.git", b: "https://GIT.example.com:443/b.git", same: true},
		{name: "userinfo does not count", a: "https://u:p@git.example.com/a.git", b: "https://git.example.com/b.git", same: true},
		{name: "http is not https", a: "https://git.example.com/a.git", b: "http://git.example.com/a.git"},
		{name: "other port", a: "http://127.0.0.1:8080/a.git", b: "http://127.0.0.1:8081/a.git"},
		{name: "other host", a: "https://git.example.com/a.git", b: "https://git.example.com.evil.test/a.git"},
		{name: "scp-like and ssh url", a: "git@git.example.com:a.git", b: "ssh://git@git.example.com:22/b.git", same: true},
		{name: "ipv6", a: "http://[::1]/a.git", b: "http://[::1]:80/b.git", same: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, errA := parseRemoteURL(tt.a)
			b, errB := parseRemoteURL(tt.b)
			if errA != nil || errB != nil {
				t.Fatal(errA, errB)
			}
			if got := a.origin() == b.origin(); got != tt.same {
				t.Fatalf("origin %s vs %s: same = %t, want %t", a.origin(), b.origin(), got, tt.same)
			}
		})
	}
}

func TestSubmoduleAuth(t *testing.T) {
	creds := Auth{Username: "bot", Password: "s3cret-pw", SSHKey: []byte("PRIVATE KEY"), CABundle: []byte("ca"), KnownHosts: []byte("kh")}
	tests := []struct {
		name, parent, sub string
		wantCreds         bool
		wantErr           bool
	}{
		{name: "same origin", parent: "https://git.example.com/a.git", sub: "https://git.example.com:443/b.git", wantCreds: true},
		{name: "downgrade to http", parent: "https://git.example.com/a.git", sub: "http://git.example.com/b.git"},
		{name: "other host", parent: "https://git.example.com/a.git", sub: "https://evil.example.net/b.git"},
		{name: "ssh on another host", parent: "ssh://git@git.example.com/a.git", sub: "ssh://git@evil.example.net/b.git", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := parseRemoteURL(tt.parent)
			if err != nil {
				t.Fatal(err)
			}
			f := &fetch{g: &Git{remote: r, opts: GitOptions{Auth: creds}}}
			a, err := f.subAuth(tt.sub)
			if tt.wantErr {
				wantErr(t, err, nil)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := a.Password != "" || len(a.SSHKey) > 0; got != tt.wantCreds {
				t.Fatalf("credentials passed = %t, want %t", got, tt.wantCreds)
			}
			if string(a.CABundle) != "ca" || string(a.KnownHosts) != "kh" {
				t.Fatal("CA bundle and known_hosts must carry over")
			}
		})
	}
}
