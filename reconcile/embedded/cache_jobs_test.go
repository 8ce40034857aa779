package embedded

import (
	"reflect"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/jobsync/jobsync/reconcile"
)

func finishedJob(name string, owner types.UID, hash string) *batchv1.Job {
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name),
			Annotations: map[string]string{reconcile.AnnotationSpecHash: hash, "other": "x"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "CronJob", Name: "cj-" + string(owner),
				UID: owner, Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}},
		Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}}},
	}
}

// TestDoneJobSummary checks what the cache keeps of a finished Job: the
// spec hash, and owner references equal to the Job's, one copy of them per
// controller.
func TestDoneJobSummary(t *testing.T) {
	c := newCache()
	jobs := []*batchv1.Job{finishedJob("a", "u1", "h1"), finishedJob("b", "u1", ""), finishedJob("c", "u2", "h3")}
	for _, j := range jobs {
		key := Key(j.Namespace, j.Name)
		c.setJob(key, j.DeepCopy())
		c.coolJob(key)
	}
	tests := []struct {
		name     string
		wantHash string
	}{
		{"first of its controller", "h1"},
		{"second: shares the owners of the first", ""},
		{"another controller", "h3"},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key := Key("ns", jobs[i].Name)
			hash, finished, exists := c.jobSpecHash(key)
			if hash != tc.wantHash || !finished || !exists {
				t.Errorf("jobSpecHash = %q, %v, %v; want %q, true, true", hash, finished, exists, tc.wantHash)
			}
			_, owners, ok := c.jobInfo(key)
			if !ok || !reflect.DeepEqual(owners, jobs[i].OwnerReferences) {
				t.Fatalf("owners %v, want %v", owners, jobs[i].OwnerReferences)
			}
			for j, other := range jobs {
				if j == i {
					continue
				}
				_, o, _ := c.jobInfo(Key("ns", other.Name))
				want := other.OwnerReferences[0].UID == jobs[i].OwnerReferences[0].UID
				if shared := &o[0] == &owners[0]; shared != want {
					t.Errorf("owners shared with Job %s: %v, want %v", other.Name, shared, want)
				}
			}
		})
	}
	if _, _, exists := c.jobSpecHash("ns/none"); exists {
		t.Error("a missing Job exists")
	}
}
