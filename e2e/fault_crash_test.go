package e2e

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/jobsync/jobsync/agent"
	"github.com/jobsync/jobsync/internal/gittest"
	"github.com/jobsync/jobsync/reconcile"
)

// Crash workload: enough ConfigMaps that, at a modest client QPS, the apply
// takes long enough to be interrupted in the middle; CronJobs and Jobs in
// the last stage.
const (
	crashConfigMaps = 1500
	crashCronJobs   = 50
	crashJobs       = 60
	crashQPS        = "100"
)

func crashFiles() map[string]string {
	return mergeFiles(configMaps(crashConfigMaps, "v1"), cronJobs(crashCronJobs, "1.0"),
		bulkFiles("jobs", "job", crashJobs, func(i int) string { return jobDoc(fmt.Sprintf("migrate-%02d", i)) }))
}

// crashWant is every object of crashFiles, as managed keys them.
func crashWant() map[string]bool {
	want := map[string]bool{}
	for i := range crashConfigMaps {
		want[fmt.Sprintf("ConfigMap/cm-%05d", i)] = true
	}
	for i := range crashCronJobs {
		want[fmt.Sprintf("CronJob/cj-%05d", i)] = true
	}
	for i := range crashJobs {
		want[fmt.Sprintf("Job/migrate-%02d", i)] = true
	}
	return want
}

// startCrashAgent commits the crash workload, starts a slowed-down agent on
// it and returns once during(ConfigMaps, Jobs) holds for the counts of what
// is applied so far.
func startCrashAgent(t *testing.T, ctx context.Context, ns string, during func(cms, jobs int) bool) (*agentProc, string) {
	t.Helper()
	base, repo := newFaultRepo(t)
	commit := repo.Commit("big", crashFiles())
	srv := gittest.StartHTTP(t, base, gittest.HTTPOptions{})
	a := startAgent(t, agentConfig{repo: srv.URL("app.git"), ns: ns,
		extra: []string{"--kube-qps", crashQPS, "--kube-burst", crashQPS}})
	pollUntil(t, 2*time.Minute, "the apply under way", func() (bool, string) {
		cms, jobs := countConfigMaps(ctx, ns), len(jobUIDs(t, ctx, ns))
		return during(cms, jobs), fmt.Sprintf("%d ConfigMaps, %d Jobs", cms, jobs)
	})
	return a, revisionOf(commit)
}

// checkConverged checks that exactly the wanted objects exist, all at rev,
// all in the inventory; that each Job was created once (one pod from the Job
// controller, and the uid it had in before, if any); and that one more
// reconcile changes nothing.
func checkConverged(t *testing.T, ctx context.Context, a *agentProc, ns, rev string, want map[string]bool, before map[string]types.UID) {
	t.Helper()
	got := managedObjects(t, ctx, ns)
	var missing, extra, stale []string
	for k := range want {
		if _, ok := got[k]; !ok {
			missing = append(missing, k)
		}
	}
	for k, r := range got {
		if !want[k] {
			extra = append(extra, k)
		} else if r != rev {
			stale = append(stale, k+"@"+r)
		}
	}
	if len(missing)+len(extra)+len(stale) > 0 {
		sort.Strings(missing)
		sort.Strings(extra)
		t.Errorf("after convergence: %d missing %.5v, %d extra %.5v, %d at another revision %.5v", len(missing), missing, len(extra), extra, len(stale), stale)
	}
	if inv := inventoryOf(t, ctx, ns); len(inv) != len(want) {
		t.Errorf("inventory holds %d objects, want %d", len(inv), len(want))
	}
	checkJobPods(t, ctx, ns)
	uids := jobUIDs(t, ctx, ns)
	for name, uid := range before {
		if uids[name] != uid {
			t.Errorf("Job %s was recreated (uid %s before, %s after)", name, uid, uids[name])
		}
	}
	st := reconcileAgain(t, a)
	for _, o := range st.LastApplied.Objects {
		if o.Action != reconcile.ActionUnchanged {
			t.Errorf("the reconcile after convergence: %s %s, want unchanged", o.Action, o.Object)
		}
	}
	for name, uid := range jobUIDs(t, ctx, ns) {
		if uids[name] != uid {
			t.Errorf("Job %s recreated by the reconcile after convergence", name)
		}
	}
}

// checkJobPods waits until the Job controller has made a pod for every Job
// and checks that none has two (a Job run twice).
func checkJobPods(t *testing.T, ctx context.Context, ns string) {
	t.Helper()
	perJob := map[string]int{}
	pollUntil(t, time.Minute, "a pod for every Job", func() (bool, string) {
		l, err := env.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "batch.kubernetes.io/job-name"})
		if err != nil {
			return false, err.Error()
		}
		perJob = map[string]int{}
		for _, p := range l.Items {
			perJob[p.Labels["batch.kubernetes.io/job-name"]]++
		}
		return len(perJob) == crashJobs, fmt.Sprintf("pods for %d of %d Jobs", len(perJob), crashJobs)
	})
	for job, n := range perJob {
		if n != 1 {
			t.Errorf("Job %s has %d pods, want 1 (run once)", job, n)
		}
	}
}

// jobUIDs maps the sync's Jobs to their uids (empty while the API server is down).
func jobUIDs(t *testing.T, ctx context.Context, ns string) map[string]types.UID {
	t.Helper()
	l, err := env.Client.BatchV1().Jobs(ns).List(ctx, metav1.ListOptions{LabelSelector: reconcile.LabelSync + "=" + ns})
	if err != nil {
		return nil
	}
	out := map[string]types.UID{}
	for _, j := range l.Items {
		out[j.Name] = j.UID
	}
	return out
}

// reconcileAgain triggers a reconcile and waits until it has applied.
func reconcileAgain(t testing.TB, a *agentProc) agent.StatusReport {
	t.Helper()
	st, _, err := a.status()
	if err != nil {
		t.Fatal(err)
	}
	attempts := st.Attempts
	a.reconcileNow()
	pollUntil(t, time.Minute, "one more reconcile", func() (bool, string) {
		st, _, err = a.status()
		if err != nil {
			return false, err.Error()
		}
		return st.Attempts > attempts && st.LastAttempt.Error == "" && st.LastApplied != nil, fmt.Sprintf("%+v", st.LastAttempt)
	})
	return st
}

// TestFaultAPIServerKilledMidApply: kube-apiserver is killed while the agent
// applies a revision and started again; the agent reports the failure, then
// converges: every object exactly once, none lost, the Job created once.
func TestFaultAPIServerKilledMidApply(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	ns := newNamespace(t, ctx, "fault-apiserver")
	a, rev := startCrashAgent(t, ctx, ns, func(cms, _ int) bool { return cms >= crashConfigMaps/10 && cms <= crashConfigMaps/2 })

	if err := env.KillAPIServer(); err != nil {
		t.Fatal(err)
	}
	down := true
	t.Cleanup(func() {
		if down { // never leave the package's control plane dead
			_ = env.RestartAPIServer(context.Background(), 90*time.Second)
		}
	})
	st := a.waitAttempt(time.Minute, "an attempt failed on the dead API server", func(at *agent.AttemptReport) bool {
		return at.Error != "" && at.Stage != "fetch"
	})
	t.Logf("with the API server down: stage %s: %.300s", st.LastAttempt.Stage, st.LastAttempt.Error)
	if st.LastApplied != nil {
		t.Errorf("a revision counts as applied although the API server died during its apply: %+v", st.LastApplied.Revision)
	}
	pollUntil(t, 30*time.Second, "the agent retrying against the dead API server", func() (bool, string) {
		n, err := a.reconciles()
		return err == nil && n["failed"] >= 2, fmt.Sprintf("%v %v", n, err)
	})
	if err := env.RestartAPIServer(ctx, 90*time.Second); err != nil {
		t.Fatal(err)
	}
	down = false
	a.waitApplied(3*time.Minute, rev)
	checkConverged(t, ctx, a, ns, rev, crashWant(), nil)
}

// TestFaultAgentKilledMidApply: the agent is SIGKILLed while it applies a
// revision and started again on the same state directory; it converges:
// every object exactly once, none lost, the Job created once.
func TestFaultAgentKilledMidApply(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	ns := newNamespace(t, ctx, "fault-agentkill")
	// Kill it in the last stage: some Jobs exist, but the inventory does not
	// record them yet, so the restarted agent plans them as creates.
	a, rev := startCrashAgent(t, ctx, ns, func(_, jobs int) bool { return jobs >= 1 && jobs < crashJobs*3/4 })
	a.kill()
	before := jobUIDs(t, ctx, ns)
	t.Logf("agent killed with %d ConfigMaps and %d of %d Jobs applied", countConfigMaps(ctx, ns), len(before), crashJobs)
	if len(before) == 0 || len(before) >= crashJobs {
		t.Fatalf("not killed mid-apply: %d of %d Jobs", len(before), crashJobs)
	}
	if inv := inventoryOf(t, ctx, ns); len(inv) != 0 {
		t.Logf("note: the inventory already holds %d objects", len(inv))
	}
	a.start()
	a.waitApplied(3*time.Minute, rev)
	checkConverged(t, ctx, a, ns, rev, crashWant(), before)
}
