package e2e

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/jobsync/jobsync/agent"
	"github.com/jobsync/jobsync/internal/gittest"
)

// The fault suite runs `jobsync agent` as a real process against the real
// control plane and real Git servers, injects one fault per test and checks
// that the agent keeps what it applied, says what went wrong, and converges
// once the fault is gone.

// small is a repository with one ConfigMap (value v) and one CronJob.
func small(v string) map[string]string {
	return map[string]string{"settings.yaml": configMapDoc("settings", v), "nightly.yaml": cronJobDoc("nightly", "0 3 * * *", "1.0")}
}

// TestFaultGitServerDownThenBack: with the git daemon down the agent keeps
// the last applied revision and reports the fetch failure; once the daemon is
// back it applies the commit pushed meanwhile.
func TestFaultGitServerDownThenBack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ns := newNamespace(t, ctx, "fault-gitdown")
	base, repo := newFaultRepo(t)
	first := repo.Commit("first", small("v1"))
	daemon := gittest.StartDaemon(t, base)
	a := startAgent(t, agentConfig{repo: daemon.URL("app.git"), ns: ns})
	a.waitApplied(time.Minute, revisionOf(first))

	daemon.Stop()
	second := repo.Commit("second", small("v2"))
	st := a.waitAttempt(30*time.Second, "a failed fetch", func(at *agent.AttemptReport) bool { return at.Stage == "fetch" && at.Error != "" })
	t.Logf("while the server is down: %s", st.LastAttempt.Error)
	if !strings.Contains(st.LastAttempt.Error, "unreachable") {
		t.Errorf("fetch error %q does not say the server is unreachable", st.LastAttempt.Error)
	}
	if st.LastApplied == nil || st.LastApplied.Revision != revisionOf(first) || !st.Ready {
		t.Errorf("while the server is down: last applied %+v ready %v, want %s and ready", st.LastApplied, st.Ready, revisionOf(first))
	}
	if got := configMapValue(t, ctx, ns, "settings"); got != "v1" {
		t.Errorf("ConfigMap settings = %q while the server is down, want v1 kept", got)
	}
	if m := managedObjects(t, ctx, ns); len(m) != 2 {
		t.Errorf("managed objects while the server is down: %v, want the 2 of the first commit", m)
	}
	if n, err := a.reconciles(); err != nil || n["failed"] < 1 {
		t.Errorf("jobsync_reconcile_total = %v, %v; want failed >= 1", n, err)
	}

	if err := daemon.Restart(); err != nil {
		t.Fatal(err)
	}
	a.waitApplied(time.Minute, revisionOf(second))
	if got := configMapValue(t, ctx, ns, "settings"); got != "v2" {
		t.Errorf("ConfigMap settings = %q after the server is back, want v2", got)
	}
}

// TestFaultForcePush: a force-pushed branch is followed: the new tip is
// applied, and what only the discarded history had is pruned.
func TestFaultForcePush(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ns := newNamespace(t, ctx, "fault-force")
	base, repo := newFaultRepo(t)
	first := repo.Commit("first", small("v1"))
	second := repo.Commit("second", mergeFiles(small("v2"), map[string]string{"extra.yaml": configMapDoc("extra", "x")}))
	srv := gittest.StartHTTP(t, base, gittest.HTTPOptions{})
	a := startAgent(t, agentConfig{repo: srv.URL("app.git"), ns: ns})
	a.waitApplied(time.Minute, revisionOf(second))
	if _, ok := managedObjects(t, ctx, ns)["ConfigMap/extra"]; !ok {
		t.Fatal("ConfigMap extra of the second commit not applied")
	}

	// Rewrite: drop the second commit, commit something else on the first.
	repo.Reset(first)
	rewritten := repo.Commit("rewritten", small("v3")) // pushed with --force
	if rewritten == second {
		t.Fatal("the rewrite did not change the tip")
	}
	a.waitApplied(time.Minute, revisionOf(rewritten))
	if got := configMapValue(t, ctx, ns, "settings"); got != "v3" {
		t.Errorf("ConfigMap settings = %q after the force-push, want v3", got)
	}
	m := managedObjects(t, ctx, ns)
	if _, ok := m["ConfigMap/extra"]; ok {
		t.Errorf("ConfigMap extra, only in the discarded history, was not pruned: %v", m)
	}
	if _, ok := m["CronJob/nightly"]; !ok || len(m) != 2 {
		t.Errorf("managed after the force-push = %v, want settings and nightly", m)
	}
	if !strings.Contains(a.log(), "history rewritten") {
		t.Errorf("the agent's log does not say the history was rewritten:\n%s", a.log())
	}
}

// TestFaultAuthRevoked: when the server stops accepting the password, the
// fetch fails with a clear error that contains no secret, nothing is pruned,
// and the agent resumes once the credentials work again.
func TestFaultAuthRevoked(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ns := newNamespace(t, ctx, "fault-auth")
	const user, password = "deployer", "pw-Zq8-not-for-logs"
	base, repo := newFaultRepo(t)
	first := repo.Commit("first", small("v1"))
	srv := gittest.StartHTTP(t, base, gittest.HTTPOptions{Username: user, Password: password})
	dir := t.TempDir()
	userFile, pwFile := filepath.Join(dir, "username"), filepath.Join(dir, "password")
	for f, v := range map[string]string{userFile: user + "\n", pwFile: password + "\n"} {
		if err := os.WriteFile(f, []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	a := startAgent(t, agentConfig{repo: srv.URL("app.git"), ns: ns,
		extra: []string{"--git-username-file", userFile, "--git-password-file", pwFile}})
	a.waitApplied(time.Minute, revisionOf(first))

	srv.SetBasicAuth(user, "rotated-by-the-admin")
	repo.Remove("nightly.yaml")
	repo.Commit("second", nil) // would prune nightly
	st := a.waitAttempt(30*time.Second, "a failed fetch", func(at *agent.AttemptReport) bool { return at.Stage == "fetch" && at.Error != "" })
	t.Logf("with the password revoked: %s", st.LastAttempt.Error)
	if !strings.Contains(st.LastAttempt.Error, "authentication failed") {
		t.Errorf("fetch error %q does not say authentication failed", st.LastAttempt.Error)
	}
	pollUntil(t, 10*time.Second, "a few more failed attempts", func() (bool, string) {
		n, err := a.reconciles()
		return err == nil && n["failed"] >= 3, ""
	})
	_, raw, err := a.status()
	if err != nil {
		t.Fatal(err)
	}
	metrics, err := a.get("/metrics")
	if err != nil {
		t.Fatal(err)
	}
	for where, text := range map[string]string{"log": a.log(), "/status": raw, "/metrics": metrics} {
		if strings.Contains(text, password) {
			t.Errorf("the password appears in the agent's %s", where)
		}
	}
	if st.LastApplied == nil || st.LastApplied.Revision != revisionOf(first) {
		t.Errorf("last applied %+v, want %s kept", st.LastApplied, revisionOf(first))
	}
	if m := managedObjects(t, ctx, ns); len(m) != 2 {
		t.Errorf("managed objects with the password revoked: %v, want both kept", m)
	}
	if srv.Stats().Unauthorized == 0 {
		t.Error("the server answered no request with 401")
	}

	srv.SetBasicAuth(user, password)
	a.waitApplied(time.Minute, revisionOf(repo.Head()))
	if m := managedObjects(t, ctx, ns); len(m) != 1 {
		t.Errorf("managed after the password works again: %v, want nightly pruned", m)
	}
}

// TestFaultBadCommitThenFix: a commit with an invalid CronJob is rejected
// as a whole (none of its changes reach the cluster, the last good revision
// stays), and the commit that fixes it is applied.
func TestFaultBadCommitThenFix(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ns := newNamespace(t, ctx, "fault-bad")
	base, repo := newFaultRepo(t)
	first := repo.Commit("first", small("v1"))
	srv := gittest.StartHTTP(t, base, gittest.HTTPOptions{})
	a := startAgent(t, agentConfig{repo: srv.URL("app.git"), ns: ns})
	a.waitApplied(time.Minute, revisionOf(first))

	bad := repo.Commit("bad", mergeFiles(small("v2"), map[string]string{
		"broken.yaml": cronJobDoc("broken", "61 * * * *", "1.0"), // minute 61: refused by the API server
	}))
	st := a.waitAttempt(30*time.Second, "the bad commit rejected", func(at *agent.AttemptReport) bool {
		return at.Revision == revisionOf(bad) && at.Error != ""
	})
	t.Logf("bad commit: stage %s: %s", st.LastAttempt.Stage, st.LastAttempt.Error)
	if st.LastAttempt.Stage != "validate" || !strings.Contains(st.LastAttempt.Error, "rejected") {
		t.Errorf("bad commit: stage %q error %q, want rejected at validate", st.LastAttempt.Stage, st.LastAttempt.Error)
	}
	if f := st.LastAttempt.Findings; len(f) == 0 || !strings.Contains(f[0].Object, "CronJob") || !strings.Contains(f[0].Object, "broken") || len(f[0].Errors) == 0 {
		t.Errorf("findings %+v, want errors for CronJob broken", f)
	}
	if n, err := a.reconciles(); err != nil || n["rejected"] < 1 {
		t.Errorf("jobsync_reconcile_total = %v, %v; want rejected >= 1", n, err)
	}
	if got := configMapValue(t, ctx, ns, "settings"); got != "v1" {
		t.Errorf("ConfigMap settings = %q after the bad commit, want v1 (nothing of it applied)", got)
	}
	for obj, rev := range managedObjects(t, ctx, ns) {
		if rev == revisionOf(bad) {
			t.Errorf("%s carries the bad revision", obj)
		}
	}
	if _, err := env.Client.BatchV1().CronJobs(ns).Get(ctx, "broken", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("CronJob broken exists after the bad commit (%v)", err)
	}

	fix := repo.Commit("fix", map[string]string{"broken.yaml": cronJobDoc("broken", "1 * * * *", "1.0")})
	a.waitApplied(time.Minute, revisionOf(fix))
	cj, err := env.Client.BatchV1().CronJobs(ns).Get(ctx, "broken", metav1.GetOptions{})
	if err != nil || cj.Spec.Schedule != "1 * * * *" {
		t.Errorf("CronJob broken after the fix: %v, %v; want schedule 1 * * * *", cj, err)
	}
	if got := configMapValue(t, ctx, ns, "settings"); got != "v2" {
		t.Errorf("ConfigMap settings = %q after the fix, want v2", got)
	}
}

// TestFaultEmptyRender: a commit that renders no objects is refused and
// nothing is pruned.
func TestFaultEmptyRender(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ns := newNamespace(t, ctx, "fault-empty")
	base, repo := newFaultRepo(t)
	first := repo.Commit("first", mergeFiles(small("v1"), configMaps(20, "v1")))
	srv := gittest.StartHTTP(t, base, gittest.HTTPOptions{})
	a := startAgent(t, agentConfig{repo: srv.URL("app.git"), ns: ns})
	a.waitApplied(time.Minute, revisionOf(first))
	before := managedObjects(t, ctx, ns)
	if len(before) != 22 {
		t.Fatalf("managed after the first commit: %d objects, want 22", len(before))
	}

	repo.Remove("settings.yaml", "nightly.yaml", "config")
	empty := repo.Commit("empty", map[string]string{"README.md": "nothing here yet\n"})
	st := a.waitAttempt(30*time.Second, "the empty render refused", func(at *agent.AttemptReport) bool {
		return at.Revision == revisionOf(empty) && at.Error != ""
	})
	t.Logf("empty render: stage %s: %s", st.LastAttempt.Stage, st.LastAttempt.Error)
	if !strings.Contains(st.LastAttempt.Error, "renders no objects") {
		t.Errorf("error %q does not say the render is empty", st.LastAttempt.Error)
	}
	// Let a few more reconciles of the empty revision go by.
	attempts := st.Attempts
	pollUntil(t, 15*time.Second, "three more attempts", func() (bool, string) {
		st, _, err := a.status()
		return err == nil && st.Attempts >= attempts+3, ""
	})
	if after := managedObjects(t, ctx, ns); !maps.Equal(before, after) {
		t.Errorf("managed objects changed after the empty render:\nbefore %v\nafter  %v", before, after)
	}
	if st.LastApplied == nil || st.LastApplied.Revision != revisionOf(first) {
		t.Errorf("last applied %+v, want %s kept", st.LastApplied, revisionOf(first))
	}
}
