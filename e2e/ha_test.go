package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/jobsync/jobsync/agent"
	"github.com/jobsync/jobsync/internal/gittest"
)

// replica is one `jobsync agent` process.
type replica struct {
	id, addr, log string
	cmd           *exec.Cmd
	done          chan struct{}
}

// startReplica runs `jobsync agent --target cluster --leader-elect` for the
// repository on the e2e control plane, with short lease timings.
func startReplica(t *testing.T, id, repo, ns string) *replica {
	t.Helper()
	dir := t.TempDir()
	r := &replica{id: id, addr: freeLoopbackAddr(t), log: filepath.Join(dir, "agent.log")}
	r.cmd, r.done = spawnJobsync(t, r.log, []string{"agent",
		"--repo", repo, "--ref", gittest.DefaultBranch, "--target", "cluster",
		"--kubeconfig", env.Kubeconfig, "--namespace", ns, "--sync-name", "ha",
		"--state-dir", filepath.Join(dir, "state"), "--listen", r.addr,
		"--interval", "1s", "--jitter", "0",
		"--leader-elect", "--identity", id,
		"--leader-elect-lease-duration", "3s", "--leader-elect-renew-deadline", "2s", "--leader-elect-retry-period", "500ms",
		"--log-format", "json"})
	t.Cleanup(func() {
		_ = r.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-r.done:
		case <-time.After(15 * time.Second):
			_ = r.cmd.Process.Kill()
			<-r.done
		}
		if t.Failed() {
			b, _ := os.ReadFile(r.log)
			t.Logf("replica %s log:\n%s", id, tail(string(b), 4000))
		}
	})
	return r
}

// status reads the replica's /status.
func (r *replica) status() (agent.StatusReport, error) {
	var st agent.StatusReport
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + r.addr + "/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("/status: %s", resp.Status)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// readyz returns the replica's /readyz code and body.
func (r *replica) readyz() (int, string, error) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + r.addr + "/readyz")
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// TestHAFailover runs two replicas with leader election against one
// repository: only the Lease holder reconciles; when it is SIGKILLed the
// standby takes the Lease over and applies the next commit.
func TestHAFailover(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	ns, err := env.CreateNamespace(ctx, "ha")
	if err != nil {
		t.Fatal(err)
	}
	repo := gittest.NewRepo(t, t.TempDir(), "batch.git")
	first := repo.Commit("first", map[string]string{"settings.yaml": configMapDoc("settings", "info"), "nightly.yaml": cliCronJob})
	replicas := map[string]*replica{}
	for _, id := range []string{"replica-a", "replica-b"} {
		// A file:// URL: a local path is read as a plain directory, whatever --ref says.
		replicas[id] = startReplica(t, id, "file://"+repo.Bare, ns)
	}

	// One replica takes the Lease and applies the first commit.
	var leader, standby *replica
	pollUntil(t, time.Minute, "a Lease holder that applied "+first, func() (bool, string) {
		l, err := env.Client.CoordinationV1().Leases(ns).Get(ctx, "jobsync-ha", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		holder := ""
		if l.Spec.HolderIdentity != nil {
			holder = *l.Spec.HolderIdentity
		}
		if replicas[holder] == nil {
			return false, fmt.Sprintf("lease holder %q", holder)
		}
		leader = replicas[holder]
		return haAppliedBy(leader, first, 3)
	})
	for id, r := range replicas {
		if r != leader {
			standby = replicas[id]
		}
	}
	if got := configMapValue(t, ctx, ns, "settings"); got != "info" {
		t.Errorf("ConfigMap settings = %q, want %q", got, "info")
	}

	// The standby has not reconciled once, and says it stands by.
	st, err := standby.status()
	if err != nil {
		t.Fatal(err)
	}
	if st.Leading || st.Attempts != 0 || st.LastAttempt != nil {
		t.Errorf("standby %s: leading %v, %d attempts, last %+v; want no reconcile at all", standby.id, st.Leading, st.Attempts, st.LastAttempt)
	}
	if code, body, err := standby.readyz(); err != nil || code != http.StatusOK || !strings.Contains(body, "standby") {
		t.Errorf("standby /readyz: %d %q %v; want 200 and a standby note", code, body, err)
	}

	// SIGKILL the leader (no Lease release), then push a new commit.
	if err := leader.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-leader.done
	killed := time.Now()
	second := repo.Commit("second", map[string]string{"settings.yaml": configMapDoc("settings", "debug")})
	pollUntil(t, 45*time.Second, "the standby applying "+second, func() (bool, string) {
		return haAppliedBy(standby, second, 1)
	})
	t.Logf("failover: %s from SIGKILL to %s applying the next commit (lease 3s, renew 2s, retry 500ms)",
		time.Since(killed).Round(10*time.Millisecond), standby.id)
	if got := configMapValue(t, ctx, ns, "settings"); got != "debug" {
		t.Errorf("ConfigMap settings = %q, want %q", got, "debug")
	}
	l, err := env.Client.CoordinationV1().Leases(ns).Get(ctx, "jobsync-ha", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity != standby.id {
		t.Errorf("lease holder %v after failover, want %s", l.Spec.HolderIdentity, standby.id)
	}
}

// haAppliedBy reports whether r leads and has applied the commit, after at
// least attempts reconciles, and if not, why not; it is a pollUntil condition.
func haAppliedBy(r *replica, commit string, attempts int) (bool, string) {
	st, err := r.status()
	if err != nil {
		return false, err.Error()
	}
	switch {
	case !st.Leading:
		return false, fmt.Sprintf("%s is not leading", r.id)
	case st.LastApplied == nil || !strings.Contains(st.LastApplied.Revision, commit):
		return false, fmt.Sprintf("%s: last applied %+v, want %s", r.id, st.LastApplied, commit)
	case st.Attempts < attempts:
		return false, fmt.Sprintf("%s: %d attempts, want %d", r.id, st.Attempts, attempts)
	}
	return true, ""
}
