package embedded

import (
	"context"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/jobsync/jobsync/reconcile/embedded/podexec"
)

func TestRestartMarksRunningPodsFailed(t *testing.T) {
	cases := []struct {
		name   string
		stop   func(v *env)
		reason string
	}{
		{"SIGKILL-like crash", func(v *env) { v.crash() }, ReasonAgentRestart},
		{"graceful Close", func(v *env) {
			if err := v.e.Close(); err != nil {
				v.t.Fatal(err)
			}
			v.e = nil
		}, "AgentShutdown"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newEnv(t)
			v.apply(testJob("j", func(j *batchv1.Job) { j.Spec.BackoffLimit = ptr.To[int32](1) }))
			pod := v.onlyActivePod("j")
			tc.stop(v)
			v.clock.SetTime(t0.Add(30 * time.Second))
			v.open()
			v.step()
			ps := v.e.ListPods()
			var old *corev1.Pod
			for i := range ps {
				if ps[i].Name == pod {
					old = &ps[i]
				}
			}
			if old == nil || old.Status.Phase != corev1.PodFailed || old.Status.Reason != tc.reason {
				t.Fatalf("pod %s after restart: %+v, want Failed with reason %s", pod, old, tc.reason)
			}
			if j := v.job("j"); j.Status.Failed != 1 || jobFinished(j) {
				t.Fatalf("job status %+v, want 1 failure and a retry pending", j.Status)
			}
			// Retried per backoffLimit after the 10 s backoff (counted from the
			// failure: the restart for a crash, the shutdown for a Close).
			v.at(50 * time.Second)
			retry := v.onlyActivePod("j")
			v.exit(retry, 1)
			if got := condition(v.job("j"), batchv1.JobFailed); got != batchv1.JobReasonBackoffLimitExceeded {
				t.Fatalf("after the retry failed: Failed reason %q", got)
			}
		})
	}
}

func TestRestartRecordsMissedSchedule(t *testing.T) {
	v := newEnv(t)
	v.apply(testCronJob("cj", "*/5 * * * *", nil))
	v.at(5*time.Minute + time.Second)
	v.crash()
	// Down from 10:05 to 10:17: the 10:10 and 10:15 slots were missed; the latest runs.
	v.clock.SetTime(t0.Add(17 * time.Minute))
	v.open()
	v.step()
	want := slotJob("cj", 5*time.Minute) + "," + slotJob("cj", 15*time.Minute)
	if got := jobNames(v.jobs()); got != want {
		t.Fatalf("jobs %q, want %q", got, want)
	}
}

// newExecutor returns the real executor, logging under dir/logs.
func newExecutor(tb testing.TB, dir string) *podexec.Executor {
	tb.Helper()
	xo := podexec.DefaultOptions()
	xo.LogDir = dir + "/logs"
	x, err := podexec.New(xo)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { x.Close() }) // the pods' working directory root
	return x
}

// startRealEngine runs the whole engine on the real clock with the real
// executor until the test ends.
func startRealEngine(t *testing.T) *Engine {
	t.Helper()
	dir := t.TempDir()
	x := newExecutor(t, dir)
	o := DefaultOptions()
	o.StateDir, o.Runner, o.LogPath = dir, x, x.LogPath
	e, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- e.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-ran
		e.Close()
	})
	return e
}

// waitJobFinished polls (real processes, real clock) until the Job finished.
func waitJobFinished(t *testing.T, e *Engine, name string) *batchv1.Job {
	t.Helper()
	var job *batchv1.Job
	pollReal(t, func() bool {
		for _, j := range e.ListJobs() {
			if j.Name == name && jobFinished(&j) {
				job = &j
				return true
			}
		}
		return false
	})
	return job
}

// podLog returns the log of a pod's container.
func podLog(t *testing.T, e *Engine, pod, container string) string {
	t.Helper()
	paths, err := e.LogPaths("ns", pod)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(paths[container])
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestEngineRunsRealProcesses runs the whole engine on the real clock with the
// real executor: a Job whose container prints and exits.
func TestEngineRunsRealProcesses(t *testing.T) {
	e := startRealEngine(t)
	j := testJob("hello", func(j *batchv1.Job) {
		j.Spec.Template.Spec.Containers[0].Command = []string{"sh", "-c", "echo hello from $(POD_NAME)"}
		j.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "POD_NAME", Value: "the pod"}}
	})
	if _, err := e.Target().Apply(context.Background(), changeSetOf(t, j)); err != nil {
		t.Fatal(err)
	}
	if job := waitJobFinished(t, e, "hello"); condition(job, batchv1.JobComplete) == "" {
		t.Fatalf("job ended %+v", job.Status)
	}
	ps, err := e.JobPods("ns", "hello")
	if err != nil || len(ps) != 1 {
		t.Fatalf("pods %v %v", ps, err)
	}
	if got := podLog(t, e, ps[0].Name, "main"); got != "hello from the pod\n" {
		t.Fatalf("log %q", got)
	}
	if code := ps[0].Status.ContainerStatuses[0].State.Terminated.ExitCode; code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

// TestEngineIndexedEnvFromRender: an Indexed Job applied with a ConfigMap and
// a Secret in the same change set; each real process sees its
// JOB_COMPLETION_INDEX and the values, after its init container ran.
func TestEngineIndexedEnvFromRender(t *testing.T) {
	e := startRealEngine(t)
	cm := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "ns"}, Data: map[string]string{"greeting": "hello"}}
	sec := &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: "sec", Namespace: "ns"}, StringData: map[string]string{"token": "s3cret"}}
	j := testJob("ix", func(j *batchv1.Job) {
		j.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion)
		j.Spec.Completions, j.Spec.Parallelism = ptr.To[int32](3), ptr.To[int32](3)
		spec := &j.Spec.Template.Spec
		spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox", Command: []string{"sh", "-c", "echo init $JOB_COMPLETION_INDEX"}}}
		c := &spec.Containers[0]
		c.Command = []string{"sh", "-c", `echo "index $JOB_COMPLETION_INDEX $(GREETING) $TOKEN"`}
		c.Env = []corev1.EnvVar{
			{Name: "GREETING", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "greeting"}}},
			{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}, Key: "token"}}},
		}
	})
	if _, err := e.Target().Apply(context.Background(), changeSetOf(t, cm, sec, j)); err != nil {
		t.Fatal(err)
	}
	job := waitJobFinished(t, e, "ix")
	if condition(job, batchv1.JobComplete) == "" || job.Status.CompletedIndexes != "0-2" {
		t.Fatalf("status %+v", job.Status)
	}
	ps, err := e.JobPods("ns", "ix")
	if err != nil || len(ps) != 3 {
		t.Fatalf("pods %d (%v), want 3", len(ps), err)
	}
	for _, p := range ps {
		ix := p.Annotations[batchv1.JobCompletionIndexAnnotation]
		if got, want := podLog(t, e, p.Name, "main"), "index "+ix+" hello s3cret\n"; got != want {
			t.Fatalf("pod %s log %q, want %q", p.Name, got, want)
		}
		if got, want := podLog(t, e, p.Name, "init"), "init "+ix+"\n"; got != want {
			t.Fatalf("pod %s init log %q, want %q", p.Name, got, want)
		}
	}
}

// TestRestartReapsOrphanedProcesses: a SIGKILLed agent leaves its container
// processes running (they are in their own process groups); the next agent
// kills them before it marks the pod failed, so the retry never runs next to
// the old process.
func TestRestartReapsOrphanedProcesses(t *testing.T) {
	dir := t.TempDir()
	c := clocktesting.NewFakeClock(t0)
	open := func() (*Engine, *podexec.Executor) {
		x := newExecutor(t, dir)
		o := DefaultOptions()
		o.StateDir, o.Clock, o.Runner, o.SyncPeriod = dir, c, x, 0
		e, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		return e, x
	}
	old, x := open()
	defer old.cancelRun()
	j := testJob("j", func(j *batchv1.Job) {
		j.Spec.BackoffLimit = ptr.To[int32](1)
		j.Spec.Template.Spec.Containers[0].Command = []string{"sh", "-c", "echo ready; sleep 300"}
	})
	if _, err := old.Target().Apply(context.Background(), changeSetOf(t, j)); err != nil {
		t.Fatal(err)
	}
	old.step()
	ps, err := old.JobPods("ns", "j")
	if err != nil || len(ps) != 1 {
		t.Fatalf("pods %v (%v)", ps, err)
	}
	pod := ps[0].Name
	pollReal(t, func() bool {
		data, _ := os.ReadFile(x.LogPath("ns", pod, "main"))
		return string(data) == "ready\n"
	})
	var pidData []byte
	pollReal(t, func() bool {
		var err error
		pidData, err = os.ReadFile(dir + "/logs/ns/" + pod + "/main.pid")
		return err == nil && len(pidData) > 0
	})
	pid, _ := strconv.Atoi(strings.Fields(string(pidData))[0])
	// SIGKILL of the agent: the store is closed, nothing is killed.
	if err := old.store.Close(); err != nil {
		t.Fatal(err)
	}
	e, _ := open()
	defer e.Close()
	pollReal(t, func() bool { return syscall.Kill(pid, 0) != nil })
	for _, p := range e.ListPods() {
		if p.Name == pod && (p.Status.Phase != corev1.PodFailed || p.Status.Reason != ReasonAgentRestart || !strings.Contains(p.Status.Message, "1 leftover")) {
			t.Fatalf("pod after restart: %s %s %q", p.Status.Phase, p.Status.Reason, p.Status.Message)
		}
	}
}

// pollReal waits for a real process's observable state.
func pollReal(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 20s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
