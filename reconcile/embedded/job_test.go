package embedded

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func TestJobBackoffDelays(t *testing.T) {
	want := []time.Duration{10, 20, 40, 80, 160, 320, 600, 600}
	for i, w := range want {
		if got := JobBackoff(i + 1); got != w*time.Second {
			t.Errorf("JobBackoff(%d) = %s, want %s", i+1, got, w*time.Second)
		}
	}
}

func TestJobBackoffLimit(t *testing.T) {
	v := newEnv(t)
	v.apply(testJob("j", func(j *batchv1.Job) { j.Spec.BackoffLimit = ptr.To[int32](6) }))
	now := time.Duration(0)
	delays := []time.Duration{10, 20, 40, 80, 160, 320}
	for n := 1; n <= 7; n++ {
		pod := v.onlyActivePod("j")
		now += 5 * time.Second
		v.clock.SetTime(t0.Add(now))
		v.exit(pod, 1)
		if n == 7 {
			break
		}
		d := delays[n-1] * time.Second
		v.at(now + d - time.Second)
		if ps := v.activePods("j"); len(ps) != 0 {
			t.Fatalf("failure %d: a new pod %v before the %s backoff", n, ps, d)
		}
		now += d
		v.at(now)
		if ps := v.activePods("j"); len(ps) != 1 {
			t.Fatalf("failure %d: no new pod after the %s backoff", n, d)
		}
	}
	j := v.job("j")
	if got := condition(j, batchv1.JobFailed); got != batchv1.JobReasonBackoffLimitExceeded {
		t.Fatalf("Failed condition reason %q after the 7th failure", got)
	}
	if condition(j, batchv1.JobFailureTarget) == "" || j.Status.Failed != 7 {
		t.Fatalf("want FailureTarget and failed 7, got %+v", j.Status)
	}
}

func TestJobDeadlineBeatsRetries(t *testing.T) {
	v := newEnv(t)
	v.apply(testJob("j", func(j *batchv1.Job) {
		j.Spec.BackoffLimit = ptr.To[int32](6)
		j.Spec.ActiveDeadlineSeconds = ptr.To[int64](30)
	}))
	v.clock.SetTime(t0.Add(5 * time.Second))
	v.exit(v.onlyActivePod("j"), 1) // retry at 15 s
	v.at(15 * time.Second)
	v.clock.SetTime(t0.Add(20 * time.Second))
	v.exit(v.onlyActivePod("j"), 1) // retry at 40 s, after the deadline
	v.at(30 * time.Second)
	j := v.job("j")
	if got := condition(j, batchv1.JobFailed); got != batchv1.JobReasonDeadlineExceeded {
		t.Fatalf("Failed reason %q with retries left, want DeadlineExceeded", got)
	}
}

func TestJobDeadlineKillsRunningPod(t *testing.T) {
	v := newEnv(t)
	v.apply(testJob("j", func(j *batchv1.Job) { j.Spec.ActiveDeadlineSeconds = ptr.To[int64](60) }))
	pod := v.onlyActivePod("j")
	v.at(59 * time.Second)
	if jobFinished(v.job("j")) {
		t.Fatal("finished before the deadline")
	}
	v.at(60 * time.Second)
	v.step() // the killed pod's end is collected
	if h := v.runner.handle(t, pod); h.killedWith() == "" {
		t.Fatal("the running pod was not killed at the deadline")
	}
	if got := condition(v.job("j"), batchv1.JobFailed); got != batchv1.JobReasonDeadlineExceeded {
		t.Fatalf("Failed reason %q, want DeadlineExceeded", got)
	}
}

func TestJobCompletionsParallelism(t *testing.T) {
	v := newEnv(t)
	v.apply(testJob("j", func(j *batchv1.Job) {
		j.Spec.Completions = ptr.To[int32](3)
		j.Spec.Parallelism = ptr.To[int32](2)
	}))
	if ps := v.activePods("j"); len(ps) != 2 {
		t.Fatalf("active %v, want parallelism 2", ps)
	}
	for i := range 3 {
		ps := v.activePods("j")
		if want := min(2, 3-i); len(ps) != want {
			t.Fatalf("after %d successes active %v, want %d", i, ps, want)
		}
		v.exit(ps[0], 0)
	}
	j := v.job("j")
	if j.Status.Succeeded != 3 || condition(j, batchv1.JobComplete) != batchv1.JobReasonCompletionsReached || j.Status.CompletionTime == nil {
		t.Fatalf("status %+v, want Complete after 3 successes", j.Status)
	}
	if c := j.Status.Conditions; len(c) != 2 || c[0].Type != batchv1.JobSuccessCriteriaMet || c[1].Type != batchv1.JobComplete {
		t.Fatalf("conditions %+v, want SuccessCriteriaMet then Complete", c)
	}
}

func TestJobIndexed(t *testing.T) {
	v := newEnv(t)
	v.apply(testJob("ix", func(j *batchv1.Job) {
		j.Spec.CompletionMode = ptr.To(batchv1.IndexedCompletion)
		j.Spec.Completions = ptr.To[int32](3)
		j.Spec.Parallelism = ptr.To[int32](2)
	}))
	pods, err := v.e.JobPods("ns", "ix")
	if err != nil || len(pods) != 2 {
		t.Fatalf("pods %d (%v), want 2", len(pods), err)
	}
	for i, p := range pods {
		ix := []string{"0", "1"}[i]
		if p.Annotations[batchv1.JobCompletionIndexAnnotation] != ix || p.Labels[batchv1.JobCompletionIndexAnnotation] != ix {
			t.Fatalf("pod %s: index annotation/label %v %v, want %s", p.Name, p.Annotations, p.Labels, ix)
		}
		if p.Spec.Hostname != "ix-"+ix {
			t.Fatalf("pod %s hostname %q", p.Name, p.Spec.Hostname)
		}
		env := p.Spec.Containers[0].Env
		if len(env) != 1 || env[0].Name != EnvCompletionIndex || env[0].ValueFrom.FieldRef.FieldPath != "metadata.annotations['batch.kubernetes.io/job-completion-index']" {
			t.Fatalf("pod %s env %+v", p.Name, env)
		}
	}
	v.exit(pods[0].Name, 0)
	next := v.activePods("ix")
	if len(next) != 2 {
		t.Fatalf("active %v", next)
	}
	for _, p := range next {
		v.exit(p, 0)
	}
	j := v.job("ix")
	if j.Status.CompletedIndexes != "0-2" || condition(j, batchv1.JobComplete) == "" {
		t.Fatalf("completedIndexes %q conditions %+v", j.Status.CompletedIndexes, j.Status.Conditions)
	}
}

func TestJobPodFailurePolicy(t *testing.T) {
	policy := &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{
		{Action: batchv1.PodFailurePolicyActionFailJob, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{42}}},
		{Action: batchv1.PodFailurePolicyActionIgnore, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpIn, Values: []int32{3}}},
		{Action: batchv1.PodFailurePolicyActionCount, OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{Operator: batchv1.PodFailurePolicyOnExitCodesOpNotIn, Values: []int32{0}}},
	}}
	cases := []struct {
		name       string
		code       int32
		failReason string
		failed     int32
		newPod     bool
	}{
		{"FailJob on 42", 42, batchv1.JobReasonPodFailurePolicy, 1, false},
		{"Ignore on 3: not counted, replaced at once", 3, "", 0, true},
		{"Count on 1: backoffLimit 0 reached", 1, batchv1.JobReasonBackoffLimitExceeded, 1, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newEnv(t)
			v.apply(testJob("j", func(j *batchv1.Job) {
				j.Spec.BackoffLimit = ptr.To[int32](0)
				j.Spec.PodFailurePolicy = policy
			}))
			v.exit(v.onlyActivePod("j"), tc.code)
			j := v.job("j")
			if got := condition(j, batchv1.JobFailed); got != tc.failReason || j.Status.Failed != tc.failed {
				t.Fatalf("Failed reason %q failed %d, want %q %d", got, j.Status.Failed, tc.failReason, tc.failed)
			}
			if got := len(v.activePods("j")) == 1; got != tc.newPod {
				t.Fatalf("new pod %t, want %t", got, tc.newPod)
			}
		})
	}
}

func TestJobOnFailureRestartsCount(t *testing.T) {
	v := newEnv(t)
	v.apply(testJob("j", func(j *batchv1.Job) {
		j.Spec.Template = podTemplate(corev1.RestartPolicyOnFailure)
		j.Spec.BackoffLimit = ptr.To[int32](2)
	}))
	pod := v.onlyActivePod("j")
	v.runner.handle(t, pod).restarted(1)
	v.at(10 * time.Second)
	if jobFinished(v.job("j")) {
		t.Fatal("failed after 1 restart with backoffLimit 2")
	}
	v.runner.handle(t, pod).restarted(2)
	v.at(20 * time.Second)
	v.step()
	if got := condition(v.job("j"), batchv1.JobFailed); got != batchv1.JobReasonBackoffLimitExceeded {
		t.Fatalf("Failed reason %q after 2 restarts, want BackoffLimitExceeded", got)
	}
	if v.runner.handle(t, pod).killedWith() == "" {
		t.Fatal("the restarting pod was not killed")
	}
}

func TestJobSuspendResume(t *testing.T) {
	v := newEnv(t)
	v.apply(testJob("j", nil))
	pod := v.onlyActivePod("j")
	v.clock.SetTime(t0.Add(time.Minute))
	v.apply(testJob("j", func(j *batchv1.Job) { j.Spec.Suspend = ptr.To(true) }))
	v.step()
	j := v.job("j")
	if v.runner.handle(t, pod).killedWith() == "" || condition(j, batchv1.JobSuspended) == "" || j.Status.StartTime != nil {
		t.Fatalf("suspend: killed %q, status %+v", v.runner.handle(t, pod).killedWith(), j.Status)
	}
	if j.Status.Failed != 0 || len(v.activePods("j")) != 0 {
		t.Fatalf("a pod killed by suspend counted as failed (%d) or still runs", j.Status.Failed)
	}
	v.clock.SetTime(t0.Add(5 * time.Minute))
	v.apply(testJob("j", func(j *batchv1.Job) { j.Spec.Suspend = ptr.To(false) }))
	j = v.job("j")
	if len(v.activePods("j")) != 1 || j.Status.StartTime == nil || !j.Status.StartTime.Time.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("resume: active %v startTime %v", v.activePods("j"), j.Status.StartTime)
	}
	if c := findJobCondition(j, batchv1.JobSuspended); c == nil || c.Status != corev1.ConditionFalse {
		t.Fatalf("Suspended condition %+v, want False after resume", c)
	}
}

func TestJobTTLAfterFinished(t *testing.T) {
	v := newEnv(t)
	v.apply(testJob("j", func(j *batchv1.Job) { j.Spec.TTLSecondsAfterFinished = ptr.To[int32](60) }))
	v.clock.SetTime(t0.Add(5 * time.Second))
	v.exit(v.onlyActivePod("j"), 0)
	v.at(64 * time.Second)
	if v.job("j") == nil {
		t.Fatal("deleted before its TTL")
	}
	v.at(65 * time.Second)
	if v.job("j") != nil || len(v.e.ListPods()) != 0 {
		t.Fatalf("not deleted with its pods at finish+60s: %d pods", len(v.e.ListPods()))
	}
	// Same spec again: a finished (here deleted) Job is not re-run.
	v.apply(testJob("j", func(j *batchv1.Job) { j.Spec.TTLSecondsAfterFinished = ptr.To[int32](60) }))
	if v.job("j") != nil {
		t.Fatal("the TTL-deleted Job was re-run for an unchanged spec")
	}
}
