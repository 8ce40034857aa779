package embedded

import (
	"context"
	"os"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
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

// TestEngineRunsRealProcesses runs the whole engine on the real clock with the
// real executor: a Job whose container prints and exits.
func TestEngineRunsRealProcesses(t *testing.T) {
	dir := t.TempDir()
	xo := podexec.DefaultOptions()
	xo.LogDir = dir + "/logs"
	x, err := podexec.New(xo)
	if err != nil {
		t.Fatal(err)
	}
	o := DefaultOptions()
	o.StateDir, o.Runner, o.LogPath = dir, x, x.LogPath
	e, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- e.Run(ctx) }()
	defer func() {
		cancel()
		<-ran
		e.Close()
	}()
	j := testJob("hello", func(j *batchv1.Job) {
		j.Spec.Template.Spec.Containers[0].Command = []string{"sh", "-c", "echo hello from $(POD_NAME)"}
		j.Spec.Template.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "POD_NAME", Value: "the pod"}}
	})
	if _, err := e.Target().Apply(ctx, changeSetOf(t, j)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		js := e.ListJobs()
		if len(js) == 1 && jobFinished(&js[0]) {
			if condition(&js[0], batchv1.JobComplete) == "" {
				t.Fatalf("job ended %+v", js[0].Status)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job not finished within 20s: %+v", js)
		}
		time.Sleep(5 * time.Millisecond)
	}
	ps, err := e.JobPods("ns", "hello")
	if err != nil || len(ps) != 1 {
		t.Fatalf("pods %v %v", ps, err)
	}
	paths, err := e.LogPaths("ns", ps[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(paths["main"])
	if err != nil || string(data) != "hello from the pod\n" {
		t.Fatalf("log %q (%v)", data, err)
	}
	if code := ps[0].Status.ContainerStatuses[0].State.Terminated.ExitCode; code != 0 {
		t.Fatalf("exit code %d", code)
	}
}
