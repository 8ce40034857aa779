package jobchange

import (
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func TestDecide(t *testing.T) {
	tests := []struct {
		name       string
		annotation string
		state      State
		want       Action
		wantErr    bool
	}{
		{"default waits for a running Job", "", Running, Defer, false},
		{"default replaces a finished Job", "", Finished, ReplaceNow, false},
		{"default replaces a suspended Job", "", Suspended, ReplaceNow, false},
		{"recreate-when-finished waits", "recreate-when-finished", Running, Defer, false},
		{"recreate-when-finished, finished", "recreate-when-finished", Finished, ReplaceNow, false},
		{"recreate replaces a running Job", "recreate", Running, ReplaceNow, false},
		{"recreate replaces a finished Job", "recreate", Finished, ReplaceNow, false},
		{"ignore keeps a running Job", "ignore", Running, Keep, false},
		{"ignore keeps a finished Job", "ignore", Finished, Keep, false},
		{"unknown value is an error", "Recreate", Finished, Keep, true},
		{"unknown value, running", "always", Running, Keep, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := Decide(tt.annotation, tt.state)
			if (err != nil) != tt.wantErr || d.Action != tt.want {
				t.Fatalf("Decide(%q, %d) = %+v, %v; want action %d, error %v", tt.annotation, tt.state, d, err, tt.want, tt.wantErr)
			}
			if d.Action != ReplaceNow && err == nil && d.Reason == "" {
				t.Errorf("no reason for leaving the Job")
			}
		})
	}
}

func TestStateOf(t *testing.T) {
	cond := func(ty batchv1.JobConditionType, s corev1.ConditionStatus) batchv1.JobStatus {
		return batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: ty, Status: s}}}
	}
	tests := []struct {
		name string
		job  batchv1.Job
		want State
	}{
		{"no conditions", batchv1.Job{}, Running},
		{"complete", batchv1.Job{Status: cond(batchv1.JobComplete, corev1.ConditionTrue)}, Finished},
		{"failed", batchv1.Job{Status: cond(batchv1.JobFailed, corev1.ConditionTrue)}, Finished},
		{"complete but not true", batchv1.Job{Status: cond(batchv1.JobComplete, corev1.ConditionFalse)}, Running},
		{"failure target only", batchv1.Job{Status: cond(batchv1.JobFailureTarget, corev1.ConditionTrue)}, Running},
		{"suspended", batchv1.Job{Spec: batchv1.JobSpec{Suspend: ptr.To(true)}}, Suspended},
		{"suspended and finished", batchv1.Job{Spec: batchv1.JobSpec{Suspend: ptr.To(true)}, Status: cond(batchv1.JobComplete, corev1.ConditionTrue)}, Finished},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StateOf(&tt.job); got != tt.want {
				t.Fatalf("StateOf = %d, want %d", got, tt.want)
			}
		})
	}
}
