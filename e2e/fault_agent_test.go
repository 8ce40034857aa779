package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jobsync/jobsync/agent"
	"github.com/jobsync/jobsync/internal/nettest"
	"github.com/jobsync/jobsync/internal/procstat"
)

// agentConfig is how a test runs `jobsync agent` against the control plane.
type agentConfig struct {
	// repo is the Git URL; the agent follows its main branch.
	repo string
	// ns is the namespace of the objects and the inventory; it names the sync too.
	ns string
	// interval between reconciles (default 1s, no jitter).
	interval time.Duration
	// webhookSecret, when set, enables the webhooks and a TCP listener.
	webhookSecret []byte
	// extra flags.
	extra []string
}

// agentProc is one `jobsync agent` process, restartable on its state directory.
type agentProc struct {
	t        testing.TB
	args     []string
	stateDir string
	logPath  string
	secret   []byte
	listen   string // host:port of --listen ("" without webhooks)
	hc       *http.Client

	cmd  *exec.Cmd
	done chan struct{}
}

// startAgent runs the agent as a real process and waits until its socket
// answers. It is killed at the end of the test.
func startAgent(t testing.TB, c agentConfig) *agentProc {
	t.Helper()
	dir := t.TempDir()
	a := &agentProc{t: t, stateDir: filepath.Join(dir, "state"), logPath: filepath.Join(dir, "agent.log"), secret: c.webhookSecret}
	if c.interval == 0 {
		c.interval = time.Second
	}
	a.args = []string{"agent", "--repo", c.repo, "--ref", "main", "--target", "cluster",
		"--kubeconfig", env.Kubeconfig, "--namespace", c.ns, "--sync-name", c.ns,
		"--state-dir", a.stateDir, "--interval", c.interval.String(), "--jitter", "0"}
	if len(c.webhookSecret) > 0 {
		secretFile := filepath.Join(dir, "webhook-secret")
		if err := os.WriteFile(secretFile, c.webhookSecret, 0o600); err != nil {
			t.Fatal(err)
		}
		a.listen = freeLoopbackAddr(t)
		a.args = append(a.args, "--listen", a.listen, "--webhook-secret-file", secretFile)
	}
	a.args = append(a.args, c.extra...)
	sock := filepath.Join(a.stateDir, agent.SocketName)
	a.hc = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		},
	}}
	t.Cleanup(a.kill)
	a.start()
	return a
}

// start runs the process (again) with the same flags and state directory.
func (a *agentProc) start() {
	a.t.Helper()
	cmd, done := spawnJobsync(a.t, a.logPath, a.args)
	a.cmd, a.done = cmd, done
	pollUntil(a.t, 30*time.Second, "the agent's socket", func() (bool, string) {
		select {
		case <-done:
			a.t.Fatalf("jobsync agent exited at start:\n%s", a.logTail())
		default:
		}
		resp, err := a.hc.Get("http://agent/healthz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
}

// spawnJobsync starts the jobsync binary with args in its own process group,
// its output appended to logPath and KUBECONFIG pointing nowhere (only the
// flags may point at the cluster). done is closed once it has been reaped.
func spawnJobsync(t testing.TB, logPath string, args []string) (cmd *exec.Cmd, done chan struct{}) {
	t.Helper()
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(jobsyncBin(t), args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.Env = append(os.Environ(), "KUBECONFIG=/nonexistent")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start jobsync %s: %v", args[0], err)
	}
	done = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(done)
	}()
	return cmd, done
}

// kill sends SIGKILL, as an OOM kill or a node failure would, and reaps it.
func (a *agentProc) kill() {
	if a.cmd == nil {
		return
	}
	_ = syscall.Kill(-a.cmd.Process.Pid, syscall.SIGKILL)
	<-a.done
	a.cmd = nil
}

// pid is the running agent's process id.
func (a *agentProc) pid() int { return a.cmd.Process.Pid }

// log returns everything the agent wrote (all its runs).
func (a *agentProc) log() string {
	b, err := os.ReadFile(a.logPath)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

func (a *agentProc) logTail() string { return tail(a.log(), 4000) }

// status reads /status over the socket.
func (a *agentProc) status() (agent.StatusReport, string, error) {
	var st agent.StatusReport
	raw, err := a.get("/status")
	if err != nil {
		return st, "", err
	}
	if err := json.Unmarshal([]byte(raw), &st); err != nil {
		return st, raw, fmt.Errorf("/status: %w", err)
	}
	return st, raw, nil
}

func (a *agentProc) get(path string) (string, error) {
	resp, err := a.hc.Get("http://agent" + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return string(b), fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return string(b), nil
}

// reconciles returns jobsync_reconcile_total by result from /metrics.
func (a *agentProc) reconciles() (map[string]float64, error) {
	raw, err := a.get("/metrics")
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(raw))
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, `jobsync_reconcile_total{result="`)
		if !ok {
			continue
		}
		result, value, ok := strings.Cut(rest, `"} `)
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return nil, fmt.Errorf("/metrics line %q: %w", line, err)
		}
		out[result] = v
	}
	return out, sc.Err()
}

// reconcileNow asks for a reconcile over the socket API.
func (a *agentProc) reconcileNow() {
	a.t.Helper()
	resp, err := a.hc.Post("http://agent/v1/reconcile", "", nil)
	if err != nil {
		a.t.Fatalf("POST /v1/reconcile: %v", err)
	}
	resp.Body.Close()
}

// webhook posts a signed generic push notification over TCP and returns
// the HTTP status.
func (a *agentProc) webhook(body []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, "http://"+a.listen+"/hooks/generic", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set(agent.HeaderGenericSignature, agent.Sign(a.secret, body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// waitApplied waits until /status says rev is the last applied revision.
func (a *agentProc) waitApplied(timeout time.Duration, rev string) agent.StatusReport {
	a.t.Helper()
	return a.waitAppliedEvery(pollInterval, timeout, rev)
}

// waitAppliedEvery is waitApplied polling /status every interval.
func (a *agentProc) waitAppliedEvery(interval, timeout time.Duration, rev string) agent.StatusReport {
	a.t.Helper()
	var st agent.StatusReport
	pollEvery(a.t, interval, timeout, "revision "+rev+" applied", func() (bool, string) {
		var raw string
		var err error
		st, raw, err = a.status()
		if err != nil {
			return false, err.Error()
		}
		return st.LastApplied != nil && st.LastApplied.Revision == rev, tail(raw, 1500)
	})
	return st
}

// waitAttempt waits until the last attempt satisfies ok.
func (a *agentProc) waitAttempt(timeout time.Duration, what string, ok func(*agent.AttemptReport) bool) agent.StatusReport {
	a.t.Helper()
	var st agent.StatusReport
	pollUntil(a.t, timeout, what, func() (bool, string) {
		var raw string
		var err error
		st, raw, err = a.status()
		if err != nil {
			return false, err.Error()
		}
		return st.LastAttempt != nil && ok(st.LastAttempt), tail(raw, 1500)
	})
	return st
}

// memory returns the agent's VmHWM and VmRSS in bytes.
func (a *agentProc) memory() (hwm, rss int64, err error) {
	m, err := procstat.Read(a.pid())
	if err != nil {
		return 0, 0, err
	}
	return m["VmHWM"], m["VmRSS"], nil
}

// pollInterval is how often pollUntil polls.
const pollInterval = 100 * time.Millisecond

// pollUntil polls cond every pollInterval until it holds or timeout passes;
// then it fails the test with cond's last detail.
func pollUntil(t testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	pollEvery(t, pollInterval, timeout, what, cond)
}

// pollEvery is pollUntil polling every interval.
func pollEvery(t testing.TB, interval, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, detail := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s; last: %s", timeout, what, detail)
		}
		time.Sleep(interval) // e2e: a real process, polled with a deadline
	}
}

// freeLoopbackAddr returns a loopback address that was free a moment ago.
func freeLoopbackAddr(t testing.TB) string { return nettest.FreeLoopbackAddr(t) }
