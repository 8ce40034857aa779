package manifests

import (
	"math"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func TestSetJobDefaults(t *testing.T) {
	pfp := &batchv1.PodFailurePolicy{Rules: []batchv1.PodFailurePolicyRule{{
		Action:          batchv1.PodFailurePolicyActionIgnore,
		OnPodConditions: []batchv1.PodFailurePolicyOnPodConditionsPattern{{Type: corev1.DisruptionTarget}},
	}}}
	tests := []struct {
		name                    string
		spec                    batchv1.JobSpec
		completions, parallel   *int32
		backoff                 int32
		replacement             batchv1.PodReplacementPolicy
		wantConditionStatusTrue bool
	}{
		{name: "both unset", completions: ptr.To[int32](1), parallel: ptr.To[int32](1), backoff: 6, replacement: batchv1.TerminatingOrFailed},
		{name: "only completions", spec: batchv1.JobSpec{Completions: ptr.To[int32](5)}, completions: ptr.To[int32](5), parallel: ptr.To[int32](1), backoff: 6, replacement: batchv1.TerminatingOrFailed},
		{name: "only parallelism (work queue)", spec: batchv1.JobSpec{Parallelism: ptr.To[int32](3)}, parallel: ptr.To[int32](3), backoff: 6, replacement: batchv1.TerminatingOrFailed},
		{name: "backoffLimitPerIndex", spec: batchv1.JobSpec{BackoffLimitPerIndex: ptr.To[int32](1)}, completions: ptr.To[int32](1), parallel: ptr.To[int32](1), backoff: math.MaxInt32, replacement: batchv1.TerminatingOrFailed},
		{name: "podFailurePolicy", spec: batchv1.JobSpec{PodFailurePolicy: pfp}, completions: ptr.To[int32](1), parallel: ptr.To[int32](1), backoff: 6, replacement: batchv1.Failed, wantConditionStatusTrue: true},
		{name: "explicit kept", spec: batchv1.JobSpec{BackoffLimit: ptr.To[int32](0), PodReplacementPolicy: ptr.To(batchv1.Failed)}, completions: ptr.To[int32](1), parallel: ptr.To[int32](1), backoff: 0, replacement: batchv1.Failed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			job := &batchv1.Job{Spec: *tc.spec.DeepCopy()}
			job.Spec.Template.Labels = map[string]string{"app": "x"}
			SetJobDefaults(job)
			s := job.Spec
			if !ptr.Equal(s.Completions, tc.completions) || !ptr.Equal(s.Parallelism, tc.parallel) {
				t.Errorf("completions %v parallelism %v", ptr.Deref(s.Completions, -1), ptr.Deref(s.Parallelism, -1))
			}
			if *s.BackoffLimit != tc.backoff || *s.PodReplacementPolicy != tc.replacement {
				t.Errorf("backoffLimit %d replacement %s", *s.BackoffLimit, *s.PodReplacementPolicy)
			}
			if *s.CompletionMode != batchv1.NonIndexedCompletion || *s.Suspend || *s.ManualSelector {
				t.Errorf("completionMode %s suspend %v manualSelector %v", *s.CompletionMode, *s.Suspend, *s.ManualSelector)
			}
			if job.Labels["app"] != "x" {
				t.Errorf("labels not copied from the template: %v", job.Labels)
			}
			if s.ActiveDeadlineSeconds != nil || s.TTLSecondsAfterFinished != nil {
				t.Error("activeDeadlineSeconds/ttlSecondsAfterFinished must not be defaulted")
			}
			if tc.wantConditionStatusTrue && s.PodFailurePolicy.Rules[0].OnPodConditions[0].Status != corev1.ConditionTrue {
				t.Error("onPodConditions status not defaulted to True")
			}
		})
	}
}

func TestSetCronJobDefaults(t *testing.T) {
	cj := &batchv1.CronJob{}
	SetCronJobDefaults(cj)
	s := cj.Spec
	if s.ConcurrencyPolicy != batchv1.AllowConcurrent || *s.Suspend || *s.SuccessfulJobsHistoryLimit != 3 || *s.FailedJobsHistoryLimit != 1 {
		t.Errorf("got %+v", s)
	}
	if s.StartingDeadlineSeconds != nil || s.TimeZone != nil {
		t.Error("startingDeadlineSeconds/timeZone must not be defaulted")
	}
	if s.JobTemplate.Spec.Completions != nil || s.JobTemplate.Spec.BackoffLimit != nil {
		t.Error("the job template's Job fields are defaulted on the Jobs, not the CronJob")
	}
	keep := &batchv1.CronJob{Spec: batchv1.CronJobSpec{ConcurrencyPolicy: batchv1.ForbidConcurrent, SuccessfulJobsHistoryLimit: ptr.To[int32](0)}}
	SetCronJobDefaults(keep)
	if keep.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent || *keep.Spec.SuccessfulJobsHistoryLimit != 0 {
		t.Errorf("explicit values changed: %+v", keep.Spec)
	}
}
