package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/jobsync/jobsync/agent"
	"github.com/jobsync/jobsync/internal/gittest"
	"github.com/jobsync/jobsync/internal/nettest"
)

// The CronJob the whole-agent test commits: every 2 s (Job names have minute
// resolution, so at most one scheduled Job per minute), its message from a
// ConfigMap of the same render, its pod name from the downward API.
const e2eTickYAML = `apiVersion: batch/v1
kind: CronJob
metadata:
  name: tick
  namespace: e2e
  annotations:
    jobsync.io/ignore: cronjob-schedule-too-frequent
spec:
  schedule: "@every 2s"
  timeZone: Etc/UTC
  concurrencyPolicy: Forbid
  suspend: %t
  successfulJobsHistoryLimit: 5
  failedJobsHistoryLimit: 1
  jobTemplate:
    spec:
      backoffLimit: 0
      activeDeadlineSeconds: 60
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: main
              image: busybox:1.36
              command: ["sh", "-c", "echo tick %s $(GREETING) from $POD_NAME"]
              env:
                - name: GREETING
                  valueFrom:
                    configMapKeyRef:
                      name: cfg
                      key: greeting
                - name: POD_NAME
                  valueFrom:
                    fieldRef:
                      fieldPath: metadata.name
              resources:
                requests: {cpu: 10m, memory: 16Mi}
                limits: {cpu: 100m, memory: 32Mi}
`

const e2eConfigYAML = `apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: e2e
data:
  greeting: %s
`

func e2eFiles(version, greeting string, suspend bool) map[string]string {
	return map[string]string{
		"tick.yaml": fmt.Sprintf(e2eTickYAML, suspend, version),
		"cfg.yaml":  fmt.Sprintf(e2eConfigYAML, greeting),
	}
}

// lockedBuffer is the agent's log: written by its goroutines, read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func noEnv(string) (string, bool) { return "", false }

// e2eAgent is a `jobsync agent --target embedded` running in the test process
// on a real git daemon's repository, driven through its socket and the CLI.
type e2eAgent struct {
	t      testing.TB
	repo   *gittest.Repo
	state  string
	client *agent.Client
	log    *lockedBuffer
	// listen is the agent's --listen address (the web view).
	listen string
}

func startE2EAgent(t testing.TB, files map[string]string) *e2eAgent {
	t.Helper()
	return startE2EAgentIn(t, files, filepath.Join(t.TempDir(), "state"))
}

// startE2EAgentIn is startE2EAgent on a given state directory (which may
// hold state already).
func startE2EAgentIn(t testing.TB, files map[string]string, state string) *e2eAgent {
	t.Helper()
	base := t.TempDir()
	repo := gittest.NewRepo(t, base, "batch.git")
	repo.Commit("first", files)
	daemon := gittest.StartDaemon(t, base)
	a := &e2eAgent{t: t, repo: repo, state: state, log: &lockedBuffer{},
		listen: nettest.FreeLoopbackAddr(t)}
	a.client = agent.NewClient(filepath.Join(a.state, agent.SocketName))
	ctx, cancel := context.WithCancel(context.Background())
	root := newRootCmd(streams{in: strings.NewReader(""), out: &lockedBuffer{}, err: a.log, env: noEnv})
	root.SetArgs([]string{"agent", "--repo", daemon.URL("batch.git"), "--ref", gittest.DefaultBranch,
		"--target", "embedded", "--state-dir", a.state, "--interval", "1h", "--jitter", "0", "--listen", a.listen})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("agent: %v\n%s", err, a.log.String())
			}
		case <-time.After(60 * time.Second):
			t.Errorf("the agent did not stop within 60s")
		}
	})
	return a
}

// page GETs a page of the agent's web view over its --listen address.
func (a *e2eAgent) page(path string) string {
	a.t.Helper()
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Get("http://" + a.listen + path)
	if err != nil {
		a.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		a.t.Fatalf("GET %s: %d %v: %s", path, resp.StatusCode, err, body)
	}
	return string(body)
}

// cli runs one jobsync command against the agent's state directory.
func (a *e2eAgent) cli(args ...string) string {
	a.t.Helper()
	var out, errb bytes.Buffer
	args = append(args, "--state-dir", a.state)
	if code := runEnv(args, strings.NewReader(""), &out, &errb, noEnv); code != 0 {
		a.t.Fatalf("jobsync %s: exit %d: %s%s", strings.Join(args, " "), code, out.String(), errb.String())
	}
	return out.String()
}

// eventually polls cond (the agent runs on the real clock) until it holds.
func (a *e2eAgent) eventually(what string, cond func() bool) {
	a.t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			a.t.Fatalf("not within 45s: %s\nagent log:\n%s", what, a.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// commit pushes a commit, asks the agent to reconcile, and waits until it
// has applied that revision.
func (a *e2eAgent) commit(msg string, files map[string]string, remove ...string) {
	a.t.Helper()
	a.repo.Remove(remove...)
	rev := a.repo.Commit(msg, files)
	a.cli("reconcile")
	a.waitApplied(rev)
}

func (a *e2eAgent) waitApplied(rev string) {
	a.t.Helper()
	a.eventually("revision "+rev+" applied", func() bool {
		st, err := a.client.Status(context.Background())
		return err == nil && st.LastApplied != nil && strings.Contains(st.LastApplied.Revision, rev)
	})
}

func (a *e2eAgent) cronJob() *batchv1.CronJob {
	a.t.Helper()
	cjs, err := a.client.CronJobs(context.Background())
	if err != nil {
		a.t.Fatal(err)
	}
	for i := range cjs {
		if cjs[i].Namespace == "e2e" && cjs[i].Name == "tick" {
			return &cjs[i]
		}
	}
	return nil
}

func (a *e2eAgent) jobs() []batchv1.Job {
	a.t.Helper()
	js, err := a.client.Jobs(context.Background())
	if err != nil {
		a.t.Fatal(err)
	}
	return js
}

// completed returns the Job when it finished with Complete.
func (a *e2eAgent) completed(match func(*batchv1.Job) bool) *batchv1.Job {
	for _, j := range a.jobs() {
		if !match(&j) {
			continue
		}
		for _, c := range j.Status.Conditions {
			if c.Type == batchv1.JobComplete && c.Status == corev1.ConditionTrue {
				return &j
			}
		}
	}
	return nil
}

func scheduled(j *batchv1.Job) bool {
	_, ok := j.Annotations[batchv1.CronJobScheduledTimestampAnnotation]
	return ok && strings.HasPrefix(j.Name, "tick-")
}

func lastSchedule(cj *batchv1.CronJob) time.Time {
	if cj == nil || cj.Status.LastScheduleTime == nil {
		return time.Time{}
	}
	return cj.Status.LastScheduleTime.Time
}

// TestAgentEmbeddedE2E runs the whole agent (Git source → render → validate
// → embedded target → local processes) on a real git daemon while commits
// add, change, suspend and remove a CronJob, and checks that the runs follow.
func TestAgentEmbeddedE2E(t *testing.T) {
	a := startE2EAgent(t, e2eFiles("v1", "hello", false))
	a.waitApplied(a.repo.Head())

	// Added: the schedule runs it, with env from the ConfigMap of the same render.
	var first *batchv1.Job
	a.eventually("a scheduled Job of tick completed", func() bool { first = a.completed(scheduled); return first != nil })
	if out := a.cli("logs", "-n", "e2e", first.Name); !strings.Contains(out, "tick v1 hello from "+first.Name+"-") {
		t.Fatalf("logs of %s: %q", first.Name, out)
	}
	// The web view shows the CronJob, its run and the run's logs.
	if page := a.page("/cronjobs/e2e/tick"); !strings.Contains(page, first.Name) || !strings.Contains(page, "Succeeded") {
		t.Fatalf("web page of tick lacks its run %s:\n%.2000s", first.Name, page)
	}
	if page := a.page("/cronjobs/e2e/tick/runs/" + first.Name + "/logs"); !strings.Contains(page, "tick v1 hello from "+first.Name+"-") {
		t.Fatalf("web logs of %s:\n%.2000s", first.Name, page)
	}
	if page := a.page("/revision"); !strings.Contains(page, a.repo.Head()) {
		t.Fatalf("web revision page lacks %s:\n%.2000s", a.repo.Head(), page)
	}
	// Slots keep coming every 2 s (within the minute they map to that Job).
	seen := lastSchedule(a.cronJob())
	a.eventually("lastScheduleTime advances while not suspended", func() bool { return lastSchedule(a.cronJob()).After(seen) })

	// Changed: the next run uses the new template and the new ConfigMap.
	a.commit("v2", e2eFiles("v2", "bonjour", false))
	out := a.cli("trigger", "tick")
	manual := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(out), "job/"), " created")
	if !strings.HasPrefix(manual, "tick-manual-") {
		t.Fatalf("trigger printed %q", out)
	}
	a.eventually("the triggered Job completed", func() bool {
		return a.completed(func(j *batchv1.Job) bool { return j.Name == manual }) != nil
	})
	if out := a.cli("logs", "-n", "e2e", manual); !strings.Contains(out, "tick v2 bonjour from "+manual+"-") {
		t.Fatalf("logs of %s after the change: %q", manual, out)
	}
	// The run ledger has the scheduled runs and the manual one, with results.
	a.eventually("the ledger lists the manual and a scheduled run", func() bool {
		rows := map[string]string{}
		for _, line := range strings.Split(a.cli("runs", "-n", "e2e", "tick", "--limit", "0"), "\n") {
			if f := strings.Fields(line); len(f) > 6 {
				rows[f[0]] = f[1] + " " + f[6]
			}
		}
		return rows[manual] == "manual Succeeded" && rows[first.Name] == "scheduled Succeeded"
	})

	// Suspended in Git: no more slots are taken.
	a.commit("suspend", e2eFiles("v2", "bonjour", true))
	cj := a.cronJob()
	if !ptr.Deref(cj.Spec.Suspend, false) {
		t.Fatalf("spec.suspend after the suspend commit: %v", cj.Spec.Suspend)
	}
	if out := a.cli("get", "cronjobs", "-n", "e2e"); !suspendColumn(out, "tick") {
		t.Fatalf("get cronjobs does not show the suspension:\n%s", out)
	}
	if out := a.cli("get", "cronjobs", "-n", "e2e"); !strings.Contains(out, "Suspended(git)") {
		t.Fatalf("get cronjobs does not say Git suspended it:\n%s", out)
	}
	if out := a.cli("why", "-n", "e2e", "tick"); !strings.Contains(out, "is suspended in Git") {
		t.Fatalf("why of the suspended CronJob: %q", out)
	}
	before, jobsBefore := lastSchedule(cj), len(a.jobs())
	// Three schedule periods: an unsuspended CronJob takes a slot every 2 s.
	for end := time.Now().Add(6 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		if got := lastSchedule(a.cronJob()); !got.Equal(before) || len(a.jobs()) != jobsBefore {
			t.Fatalf("a suspended CronJob took a slot: lastScheduleTime %v → %v, jobs %d → %d", before, got, jobsBefore, len(a.jobs()))
		}
	}

	// Removed: the CronJob goes, with its Jobs and their pods; the
	// ConfigMap stays (it is still in Git).
	a.commit("remove tick", nil, "tick.yaml")
	if a.cronJob() != nil {
		t.Fatal("the CronJob removed from Git is still there")
	}
	if js := a.jobs(); len(js) != 0 {
		t.Fatalf("Jobs of the removed CronJob remain: %d", len(js))
	}
	if ps, err := a.client.Pods(context.Background()); err != nil || len(ps) != 0 {
		t.Fatalf("pods of the removed CronJob remain: %d (%v)", len(ps), err)
	}
	for _, f := range []string{"state.db", "ledger.db"} {
		if _, err := os.Stat(filepath.Join(a.state, f)); err != nil {
			t.Fatalf("no %s in the state dir: %v", f, err)
		}
	}
}

// suspendColumn reads the SUSPEND column of a CronJob's row of `get
// cronjobs` (by the header's offset: the schedule may hold spaces).
func suspendColumn(table, name string) bool {
	lines := strings.Split(table, "\n")
	col := strings.Index(lines[0], "SUSPEND")
	for _, line := range lines[1:] {
		if f := strings.Fields(line); len(f) > 0 && f[0] == name && col >= 0 && len(line) > col {
			return strings.EqualFold(strings.Fields(line[col:])[0], "true")
		}
	}
	return false
}

// cpuTime is the CPU time (user + system) this process has used so far; the
// Git source (go-git), render, validation and the engine all run in it.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// idleFiles are n CronJobs spread over the day, 100 per file.
func idleFiles(n int) map[string]string {
	files := map[string]string{}
	for i := range n {
		name := fmt.Sprintf("cronjobs-%02d.yaml", i/100)
		doc := strings.ReplaceAll(fmt.Sprintf(e2eTickYAML, false, "idle"), "name: tick", fmt.Sprintf("name: cj-%04d", i))
		doc = strings.ReplaceAll(doc, `"@every 2s"`, fmt.Sprintf(`"%d %d * * *"`, i%60, (i/60)%24))
		doc = strings.ReplaceAll(doc, "$(GREETING) ", "")
		doc = doc[:strings.Index(doc, "              env:")] + doc[strings.Index(doc, "              resources:"):]
		files[name] += "---\n" + doc
	}
	return files
}

// BenchmarkAgentIdle1kCronJobs runs the whole agent (embedded target) on a
// real git daemon's repository of 1,000 CronJobs spread over the day and
// measures its CPU while no Job runs. Each iteration is one reconcile of the
// unchanged repository (fetch, render, validate, plan, apply), triggered
// through the socket; then the agent is left alone for 3 s. Metrics:
//   - cpu-ms/reconcile: CPU per reconcile (the test's status polling, measured
//     apart as cpu-ms/status-call, taken out);
//   - idle-cpu-%: CPU-seconds per wall-second × 100 between reconciles;
//   - agent-idle-cpu-%: idle-cpu-% plus one reconcile per --interval (1 min
//     by default) amortized: what the agent uses when idle.
func BenchmarkAgentIdle1kCronJobs(b *testing.B) {
	a := startE2EAgent(b, idleFiles(1000))
	a.waitApplied(a.repo.Head())
	if n := len(mustCronJobs(b, a)); n != 1000 {
		b.Fatalf("%d CronJobs applied, want 1000", n)
	}
	ctx := context.Background()
	calls := 0
	status := func() agent.StatusReport {
		calls++
		st, err := a.client.Status(ctx)
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	runtime.GC()
	b.ResetTimer()
	c0 := cpuTime(b)
	for range b.N {
		before := status().Attempts
		if err := a.client.Reconcile(ctx); err != nil {
			b.Fatal(err)
		}
		for {
			time.Sleep(100 * time.Millisecond)
			if st := status(); st.Attempts > before {
				if st.LastAttempt == nil || st.LastAttempt.Error != "" {
					b.Fatalf("reconcile failed: %+v", st.LastAttempt)
				}
				break
			}
		}
	}
	total := cpuTime(b) - c0
	b.StopTimer()
	// The status report of 1,000 objects is not cheap: take the test's own
	// polling out of the reconcile's figure.
	const probes = 10
	p0 := cpuTime(b)
	for range probes {
		status()
	}
	perStatus := (cpuTime(b) - p0) / probes
	perReconcile := (total - time.Duration(calls-probes)*perStatus) / time.Duration(b.N)
	runtime.GC()
	c1, w1 := cpuTime(b), time.Now()
	time.Sleep(3 * time.Second)
	idle := 100 * (cpuTime(b) - c1).Seconds() / time.Since(w1).Seconds()
	b.ReportMetric(float64(perReconcile.Microseconds())/1000, "cpu-ms/reconcile")
	b.ReportMetric(float64(perStatus.Microseconds())/1000, "cpu-ms/status-call")
	b.ReportMetric(idle, "idle-cpu-%")
	b.ReportMetric(idle+100*perReconcile.Seconds()/time.Minute.Seconds(), "agent-idle-cpu-%")
}

func mustCronJobs(b *testing.B, a *e2eAgent) []batchv1.CronJob {
	cjs, err := a.client.CronJobs(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return cjs
}
