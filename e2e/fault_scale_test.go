package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jobsync/jobsync/internal/gittest"
	"github.com/jobsync/jobsync/reconcile"
)

// Big commit: 10,000 objects, as issue 6 asks.
const (
	bigConfigMaps = 9000
	bigCronJobs   = 1000
)

// TestFaultTenThousandObjects: one commit of 10,000 objects (9,000
// ConfigMaps, 1,000 CronJobs) is applied completely by the agent, recorded
// in its inventory, and a reconcile after it changes nothing.
func TestFaultTenThousandObjects(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	ns := newNamespace(t, ctx, "fault-big")
	base, repo := newFaultRepo(t)
	commit := repo.Commit("big", mergeFiles(configMaps(bigConfigMaps, "v1"), cronJobs(bigCronJobs, "1.0")))
	srv := gittest.StartHTTP(t, base, gittest.HTTPOptions{})
	start := time.Now()
	a := startAgent(t, agentConfig{repo: srv.URL("app.git"), ns: ns, interval: time.Hour})
	st := a.waitApplied(6*time.Minute, revisionOf(commit))
	applied := time.Since(start)
	t.Logf("10,000 objects: agent start → applied in %s (reconcile %s)", applied.Round(100*time.Millisecond),
		st.LastApplied.Finished.Sub(st.LastApplied.Started).Round(100*time.Millisecond))
	if n := len(st.LastApplied.Objects); n != bigConfigMaps+bigCronJobs {
		t.Errorf("the change set has %d objects, want %d", n, bigConfigMaps+bigCronJobs)
	}
	if m := managedObjects(t, ctx, ns); len(m) != bigConfigMaps+bigCronJobs {
		t.Errorf("%d managed objects in the cluster, want %d", len(m), bigConfigMaps+bigCronJobs)
	}
	if inv := inventoryOf(t, ctx, ns); len(inv) != bigConfigMaps+bigCronJobs {
		t.Errorf("inventory holds %d objects, want %d", len(inv), bigConfigMaps+bigCronJobs)
	}
	start = time.Now()
	st = reconcileAgain(t, a)
	t.Logf("10,000 objects: a no-change reconcile in %s", time.Since(start).Round(100*time.Millisecond))
	changed := 0
	for _, o := range st.LastApplied.Objects {
		if o.Action != reconcile.ActionUnchanged {
			changed++
		}
	}
	if changed != 0 {
		t.Errorf("the reconcile after the big apply changed %d objects, want 0", changed)
	}
}

// TestFaultPushStorm: 100 pushes in about 10 s, each announced by a signed
// webhook, lead to far fewer reconciles than pushes, none left queued, and
// the last revision wins.
func TestFaultPushStorm(t *testing.T) {
	const pushes, every = 100, 100 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ns := newNamespace(t, ctx, "fault-storm")
	base, repo := newFaultRepo(t)
	first := repo.Commit("first", mergeFiles(small("v0"), configMaps(50, "v0")))
	srv := gittest.StartHTTP(t, base, gittest.HTTPOptions{})
	a := startAgent(t, agentConfig{repo: srv.URL("app.git"), ns: ns, interval: time.Hour, webhookSecret: []byte("storm-secret")})
	a.waitApplied(time.Minute, revisionOf(first))
	before := totalReconciles(t, a)
	commits := stormCommits(t, repo.Bare, first, pushes)

	start := time.Now()
	last := ""
	for i := 1; i <= pushes; i++ {
		last = commits[i-1]
		setBranch(t, repo.Bare, last)
		body := fmt.Appendf(nil, `{"ref":"refs/heads/main","after":%q}`, last)
		if code, err := a.webhook(body); err != nil || code != http.StatusAccepted {
			t.Fatalf("webhook %d: %d, %v; want 202", i, code, err)
		}
		if d := time.Until(start.Add(time.Duration(i) * every)); d > 0 {
			time.Sleep(d) // e2e: pace the pushes
		}
	}
	burst := time.Since(start)
	a.waitApplied(time.Minute, revisionOf(last))
	settled := time.Since(start)
	// A trigger that arrived during the last reconcile may still run once.
	pollUntil(t, 10*time.Second, "the agent idle", func() (bool, string) {
		st, _, err := a.status()
		return err == nil && st.LastAttempt != nil && !st.LastAttempt.Finished.IsZero() &&
			time.Since(st.LastAttempt.Finished) > 2*time.Second, ""
	})
	n := totalReconciles(t, a) - before
	t.Logf("%d pushes in %s: %d reconciles; last revision applied %s after the first push", pushes,
		burst.Round(10*time.Millisecond), n, settled.Round(10*time.Millisecond))
	if n < 1 || n > pushes/2 {
		t.Errorf("%d reconciles for %d pushes, want between 1 and %d", n, pushes, pushes/2)
	}
	if got := configMapValue(t, ctx, ns, "settings"); got != strconv.Itoa(pushes) {
		t.Errorf("ConfigMap settings = %q, want %d (the last push)", got, pushes)
	}
	if rev := managedObjects(t, ctx, ns)["ConfigMap/settings"]; rev != revisionOf(last) {
		t.Errorf("ConfigMap settings is at %s, want the last revision %s", rev, revisionOf(last))
	}
}

func totalReconciles(t *testing.T, a *agentProc) int {
	t.Helper()
	m, err := a.reconciles()
	if err != nil {
		t.Fatal(err)
	}
	n := 0.0
	for _, v := range m {
		n += v
	}
	return int(n)
}

// stormCommits writes n commits on top of from into the bare repository with
// one `git fast-import` (commit i sets ConfigMap settings to i), on a side
// branch, and returns them oldest first. Pushing one is then moving main to
// it (setBranch), which keeps the pushes' pace independent of machine load.
func stormCommits(t *testing.T, bare, from string, n int) []string {
	t.Helper()
	var b strings.Builder
	for i := 1; i <= n; i++ {
		msg, doc := fmt.Sprintf("push %d", i), configMapDoc("settings", strconv.Itoa(i))
		fmt.Fprintf(&b, "commit refs/heads/storm\ncommitter Storm <storm@example.com> %d +0000\ndata %d\n%s\n", 1_800_000_000+i, len(msg), msg)
		if i == 1 {
			fmt.Fprintf(&b, "from %s\n", from)
		}
		fmt.Fprintf(&b, "M 100644 inline settings.yaml\ndata %d\n%s\n", len(doc), doc)
	}
	stormGit(t, bare, b.String(), "fast-import", "--quiet")
	out := strings.Fields(stormGit(t, bare, "", "rev-list", "--reverse", "refs/heads/storm", "^"+from))
	if len(out) != n {
		t.Fatalf("fast-import made %d commits, want %d", len(out), n)
	}
	return out
}

// setBranch moves main to commit in the bare repository, as a push does.
func setBranch(t *testing.T, bare, commit string) {
	t.Helper()
	stormGit(t, bare, "", "update-ref", "refs/heads/main", commit)
}

func stormGit(t *testing.T, dir, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Stdin = dir, strings.NewReader(stdin)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	return string(out)
}
