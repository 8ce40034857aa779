package main

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jobsync/jobsync/agent"
	"github.com/jobsync/jobsync/internal/nettest"
)

// exposureConfigMap is all the repository holds: applied, nothing runs.
const exposureConfigMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: default
data:
  k: v
`

// TestAgentExposure runs the agent binary (this test binary acting as
// jobsync) with --listen on a state directory left world-readable, and
// checks what the threat model promises: over TCP the control API
// is refused and only health, metrics and status answer; the CLI still
// controls the agent over the socket; the state directory, state file and
// socket are the agent's user's alone; and another user is told the socket
// is not theirs rather than that no agent runs.
func TestAgentExposure(t *testing.T) {
	repo, state := t.TempDir(), filepath.Join(t.TempDir(), "state")
	if err := os.WriteFile(filepath.Join(repo, "cfg.yaml"), []byte(exposureConfigMap), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(state, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(state, 0o755); err != nil {
		t.Fatal(err)
	}
	listen := nettest.FreeLoopbackAddr(t)
	startChild(t, "agent", "--repo", repo, "--target", "embedded", "--state-dir", state, "--listen", listen, "--interval", "1h")
	base := "http://" + listen
	waitHTTP(t, base+"/readyz")

	t.Run("TCP refuses the control API", func(t *testing.T) {
		for _, rq := range []struct{ method, path string }{
			{http.MethodPost, "/v1/reconcile"}, {http.MethodGet, "/v1/cronjobs"}, {http.MethodPost, "/v1/cronjobs/default/x/suspend"},
		} {
			req, _ := http.NewRequest(rq.method, base+rq.path, nil)
			code, body := doHTTP(t, req)
			if code != http.StatusNotFound || !strings.Contains(body, "unix socket") {
				t.Errorf("TCP %s %s = %d %q, want 404 pointing to the socket", rq.method, rq.path, code, body)
			}
		}
		for _, p := range []string{"/healthz", "/readyz", "/metrics", "/status"} {
			req, _ := http.NewRequest(http.MethodGet, base+p, nil)
			if code, body := doHTTP(t, req); code != http.StatusOK {
				t.Errorf("TCP GET %s = %d %q, want 200", p, code, body)
			}
		}
	})
	t.Run("socket serves the CLI", func(t *testing.T) {
		var out, errb bytes.Buffer
		if code := run([]string{"reconcile", "--state-dir", state}, nil, &out, &errb); code != 0 || out.String() != "reconcile requested\n" {
			t.Errorf("jobsync reconcile: exit %d, %q %q", code, out.String(), errb.String())
		}
	})
	t.Run("state is private", func(t *testing.T) {
		for name, want := range map[string]os.FileMode{".": 0o700, "state.db": 0o600, agent.SocketName: 0o600} {
			fi, err := os.Stat(filepath.Join(state, name))
			if err != nil {
				t.Errorf("%s: %v", name, err)
			} else if fi.Mode().Perm() != want {
				t.Errorf("%s: mode %v, want %v", name, fi.Mode().Perm(), want)
			}
		}
	})
	t.Run("another user is told it is a permission problem", func(t *testing.T) {
		code, stderr := reconcileAsOtherUser(t, state)
		if code != exitUsage || !strings.Contains(stderr, "permission denied") || strings.Contains(stderr, "no agent running") ||
			!strings.Contains(stderr, "run this command as that user") {
			t.Errorf("jobsync reconcile as another user: exit %d, stderr %q; want %d and a permission error, not \"no agent running\"", code, stderr, exitUsage)
		}
	})
}

// reconcileAsOtherUser runs `jobsync reconcile` on state as a user the agent
// is not: as root, a copy of this binary run as nobody (65534); otherwise
// the agent's own user with the socket's mode taken away for the moment.
func reconcileAsOtherUser(t *testing.T, state string) (int, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		sock := filepath.Join(state, agent.SocketName)
		if err := os.Chmod(sock, 0); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(sock, 0o600)
		var out, errb bytes.Buffer
		code := run([]string{"reconcile", "--state-dir", state}, nil, &out, &errb)
		return code, errb.String()
	}
	return runAsNobody(t, "reconcile", "--state-dir", state)
}

// runAsNobody runs a copy of this binary as jobsync, as user nobody (65534);
// the test must run as root.
func runAsNobody(t *testing.T, args ...string) (int, string) {
	t.Helper()
	bin := filepath.Join(worldReadableDir(t), "jobsync")
	copyFile(t, os.Args[0], bin, 0o755)
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{benchChildEnv + "=1", "PATH=/usr/bin:/bin", "HOME=/"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run as nobody: %v", err)
	}
	return cmd.ProcessState.ExitCode(), errb.String()
}

// TestAgentRefusesAnotherUsersStateDir: a state directory left 0755 by
// another user cannot be made private; the agent says so and does not start.
func TestAgentRefusesAnotherUsersStateDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, to run the agent as another user than the directory's owner")
	}
	state := filepath.Join(worldReadableDir(t), "state")
	if err := os.Mkdir(state, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(state, 0o755); err != nil {
		t.Fatal(err)
	}
	code, stderr := runAsNobody(t, "agent", "--repo", t.TempDir(), "--target", "embedded", "--state-dir", state)
	if code != exitUsage || !strings.Contains(stderr, state+": belongs to another user (uid 0, we are 65534)") {
		t.Errorf("agent as nobody on root's state dir: exit %d, stderr %q; want %d and why", code, stderr, exitUsage)
	}
}

// worldReadableDir is a temporary directory every user may enter.
func worldReadableDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "jobsync-other-user")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	if err := os.Chmod(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
}

// waitHTTP polls url until it answers 200 (a real process: 30 s).
func waitHTTP(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not 200 within 30s (last: %v)", url, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func doHTTP(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestAgentControlTokenFlag: a control token without --listen, or an empty
// one, is a usage error before the agent serves anything.
func TestAgentControlTokenFlag(t *testing.T) {
	dir := t.TempDir()
	empty, token := filepath.Join(dir, "empty"), filepath.Join(dir, "token")
	for path, content := range map[string]string{empty: "\n", token: "t0ken\n"} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{name: "without --listen", args: []string{"--control-token-file", token}, want: "--control-token-file needs --listen"},
		{name: "empty token", args: []string{"--control-token-file", empty, "--listen", "127.0.0.1:0"}, want: "--control-token-file: " + empty + " is empty"},
		{name: "missing file", args: []string{"--control-token-file", filepath.Join(dir, "nope"), "--listen", "127.0.0.1:0"}, want: "no such file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"agent", "--repo", dir, "--target", "embedded", "--state-dir", filepath.Join(t.TempDir(), "state")}, tc.args...)
			var out, errb bytes.Buffer
			if code := run(args, nil, &out, &errb); code != exitUsage || !strings.Contains(errb.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errb.String(), exitUsage, tc.want)
			}
		})
	}
}
