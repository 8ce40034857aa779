package embedded

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/jobsync/jobsync/reconcile"
	"github.com/jobsync/jobsync/reconcile/embedded/podexec"
)

// t0 is a minute boundary: the tests' epoch.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// fakeRunner stands in for the executor in the controller tests (pure
// logic on a fake clock): pods run until the test ends them.
type fakeRunner struct {
	mu      sync.Mutex
	clock   *clocktesting.FakeClock
	handles map[string]*fakeHandle
	order   []string
}

func newFakeRunner(c *clocktesting.FakeClock) *fakeRunner {
	return &fakeRunner{clock: c, handles: map[string]*fakeHandle{}}
}

func (r *fakeRunner) Start(_ context.Context, pod *corev1.Pod, _ podexec.Lookup) (podexec.Handle, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := metav1.NewTime(r.clock.Now())
	h := &fakeHandle{pod: pod, clock: r.clock, done: make(chan struct{})}
	h.st = corev1.PodStatus{Phase: corev1.PodRunning, StartTime: &now}
	for _, c := range pod.Spec.Containers {
		h.st.ContainerStatuses = append(h.st.ContainerStatuses, corev1.ContainerStatus{Name: c.Name,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}})
	}
	r.handles[pod.Name] = h
	r.order = append(r.order, pod.Name)
	return h, nil
}

// started returns the names of the pods started so far, in order.
func (r *fakeRunner) started() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.order...)
}

func (r *fakeRunner) handle(t *testing.T, pod string) *fakeHandle {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.handles[pod]
	if h == nil {
		t.Fatalf("pod %s was never started (started: %v)", pod, r.order)
	}
	return h
}

type fakeHandle struct {
	mu     sync.Mutex
	pod    *corev1.Pod
	clock  *clocktesting.FakeClock
	st     corev1.PodStatus
	done   chan struct{}
	killed string
}

func (h *fakeHandle) Status() corev1.PodStatus {
	h.mu.Lock()
	defer h.mu.Unlock()
	return *h.st.DeepCopy()
}

func (h *fakeHandle) Done() <-chan struct{} { return h.done }

func (h *fakeHandle) Kill(reason string) {
	h.mu.Lock()
	h.killed = reason
	h.st.Reason = reason
	h.mu.Unlock()
	h.exit(143)
}

func (h *fakeHandle) killedWith() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.killed
}

// exit ends the pod's only container with code.
func (h *fakeHandle) exit(code int32) {
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.done:
		return
	default:
	}
	now := metav1.NewTime(h.clock.Now())
	for i := range h.st.ContainerStatuses {
		cs := &h.st.ContainerStatuses[i]
		reason := "Completed"
		if code != 0 {
			reason = "Error"
		}
		cs.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason, FinishedAt: now}}
	}
	h.st.Phase = corev1.PodSucceeded
	if code != 0 {
		h.st.Phase = corev1.PodFailed
	}
	close(h.done)
}

// restarted records n in-place restarts (restartPolicy OnFailure).
func (h *fakeHandle) restarted(n int32) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.st.ContainerStatuses[0].RestartCount = n
}

// env is a test engine on a fake clock with a fake runner.
type env struct {
	t      *testing.T
	dir    string
	clock  *clocktesting.FakeClock
	runner *fakeRunner
	e      *Engine
}

func newEnv(t *testing.T) *env {
	t.Helper()
	c := clocktesting.NewFakeClock(t0)
	v := &env{t: t, dir: t.TempDir(), clock: c, runner: newFakeRunner(c)}
	v.open()
	t.Cleanup(func() {
		if v.e != nil {
			v.e.Close()
		}
	})
	return v
}

func (v *env) open() {
	v.t.Helper()
	o := DefaultOptions()
	o.StateDir, o.Clock, o.Runner, o.SyncPeriod = v.dir, v.clock, v.runner, 0
	e, err := New(o)
	if err != nil {
		v.t.Fatal(err)
	}
	v.e = e
	// As Run does first: every object is synced once.
	e.mu.Lock()
	e.enqueueAll()
	e.mu.Unlock()
}

// crash drops the engine as a SIGKILL would: no kill, no final commit.
func (v *env) crash() {
	v.e.cancelRun()
	if err := v.e.store.Close(); err != nil {
		v.t.Fatal(err)
	}
	v.e = nil
}

// at moves the clock to t0+d and runs every due sync.
func (v *env) at(d time.Duration) {
	v.t.Helper()
	v.clock.SetTime(t0.Add(d))
	v.step()
}

func (v *env) step() {
	v.t.Helper()
	v.e.step()
	if err := v.e.LastError(); err != nil {
		v.t.Fatal(err)
	}
}

// apply plans objs against the engine's inventory and applies the change set.
func (v *env) apply(objs ...runtime.Object) reconcile.ApplyResult {
	v.t.Helper()
	var desired []reconcile.Desired
	for _, o := range objs {
		desired = append(desired, *desiredOf(v.t, o))
	}
	tg := v.e.Target()
	inv, err := tg.Inventory(context.Background())
	if err != nil {
		v.t.Fatal(err)
	}
	cs, err := reconcile.Plan("rev", desired, inv, reconcile.PlanOptions{AllowEmpty: true})
	if err != nil {
		v.t.Fatal(err)
	}
	res, err := tg.Apply(context.Background(), cs)
	if err != nil {
		v.t.Fatal(err)
	}
	v.step()
	return res
}

func (v *env) jobs() []batchv1.Job { return v.e.ListJobs() }

func (v *env) job(name string) *batchv1.Job {
	v.t.Helper()
	for _, j := range v.e.ListJobs() {
		if j.Name == name {
			return &j
		}
	}
	return nil
}

func (v *env) cronJob(name string) batchv1.CronJob {
	v.t.Helper()
	for _, c := range v.e.ListCronJobs() {
		if c.Name == name {
			return c
		}
	}
	v.t.Fatalf("no CronJob %s", name)
	return batchv1.CronJob{}
}

// pods returns the names of the Job's pods that are not finished.
func (v *env) activePods(job string) []string {
	v.t.Helper()
	ps, err := v.e.JobPods("ns", job)
	if err != nil {
		v.t.Fatal(err)
	}
	var out []string
	for _, p := range ps {
		if !podTerminal(&p) && p.DeletionTimestamp == nil {
			out = append(out, p.Name)
		}
	}
	return out
}

// onlyActivePod returns the Job's single running pod.
func (v *env) onlyActivePod(job string) string {
	v.t.Helper()
	ps := v.activePods(job)
	if len(ps) != 1 {
		v.t.Fatalf("Job %s: active pods %v, want exactly one", job, ps)
	}
	return ps[0]
}

// exit ends a pod's process with code and lets the controllers see it.
func (v *env) exit(pod string, code int32) {
	v.t.Helper()
	v.runner.handle(v.t, pod).exit(code)
	v.step()
}

func (v *env) events(kind Kind, name string) []Event {
	v.t.Helper()
	evs, err := v.e.Events(kind, "ns", name)
	if err != nil {
		v.t.Fatal(err)
	}
	return evs
}

func hasEvent(evs []Event, reason string) bool {
	for _, e := range evs {
		if e.Reason == reason {
			return true
		}
	}
	return false
}

func condition(j *batchv1.Job, t batchv1.JobConditionType) string {
	if c := findJobCondition(j, t); c != nil && c.Status == corev1.ConditionTrue {
		return c.Reason
	}
	return ""
}

func podTemplate(restart corev1.RestartPolicy) corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{Spec: corev1.PodSpec{RestartPolicy: restart,
		Containers: []corev1.Container{{Name: "main", Image: "busybox", Command: []string{"sh", "-c", "true"}}}}}
}

func testJob(name string, mut func(*batchv1.Job)) *batchv1.Job {
	j := &batchv1.Job{TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Spec:       batchv1.JobSpec{Template: podTemplate(corev1.RestartPolicyNever)}}
	if mut != nil {
		mut(j)
	}
	return j
}

func testCronJob(name, sched string, mut func(*batchv1.CronJob)) *batchv1.CronJob {
	cj := &batchv1.CronJob{TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns"},
		Spec: batchv1.CronJobSpec{Schedule: sched, JobTemplate: batchv1.JobTemplateSpec{
			Spec: batchv1.JobSpec{BackoffLimit: ptr.To[int32](0), Template: podTemplate(corev1.RestartPolicyNever)}}}}
	if mut != nil {
		mut(cj)
	}
	return cj
}

// slotJob is the name of a CronJob's Job for the slot at t0+d.
func slotJob(cj string, d time.Duration) string {
	return jobName(&batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: cj}}, t0.Add(d))
}

func jobNames(js []batchv1.Job) string {
	var out []string
	for _, j := range js {
		out = append(out, j.Name)
	}
	return strings.Join(out, ",")
}

// desiredOf turns a typed object into a reconcile.Desired.
func desiredOf(t testing.TB, o runtime.Object) *reconcile.Desired {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		t.Fatal(err)
	}
	return desiredFromMap(t, m)
}

func desiredFromMap(t testing.TB, m map[string]any) *reconcile.Desired {
	t.Helper()
	u := &unstructured.Unstructured{Object: m}
	h, err := reconcile.SpecHash(u)
	if err != nil {
		t.Fatal(err)
	}
	return &reconcile.Desired{Ref: reconcile.RefOf(u), Object: u, Hash: h, Origin: "test.yaml:1"}
}

// changeSetOf plans objs against an empty inventory.
func changeSetOf(t *testing.T, objs ...runtime.Object) reconcile.ChangeSet {
	t.Helper()
	var desired []reconcile.Desired
	for _, o := range objs {
		desired = append(desired, *desiredOf(t, o))
	}
	cs, err := reconcile.Plan("rev", desired, reconcile.Inventory{}, reconcile.DefaultPlanOptions())
	if err != nil {
		t.Fatal(err)
	}
	return cs
}
