package cluster_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/jobsync/jobsync/fleet"
	"github.com/jobsync/jobsync/reconcile"
	"github.com/jobsync/jobsync/reconcile/cluster"
)

// chanSink hands what the watch tells it to the test, in order.
type chanSink chan string

func (s chanSink) Started(r fleet.Run) { s <- "start " + r.Job }
func (s chanSink) Finished(r fleet.Run) {
	s <- fmt.Sprintf("end %s %s %s", r.Job, r.Result, r.Reason)
}

func (s chanSink) next(t *testing.T) string {
	t.Helper()
	select {
	case e := <-s:
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("the watch told nothing")
		return ""
	}
}

func ownedJob(name string, conds ...batchv1.JobConditionType) *batchv1.Job {
	j := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, CreationTimestamp: metav1.Now(),
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "CronJob", Name: "cj", UID: "cj-uid", Controller: ptr.To(true)}}}}
	for _, c := range conds {
		j.Status.Conditions = append(j.Status.Conditions, batchv1.JobCondition{Type: c, Status: corev1.ConditionTrue, Reason: string(c) + "Reason", LastTransitionTime: metav1.Now()})
	}
	return j
}

// The informer calls its handlers on every status update and, at start,
// for every existing Job: a run starts once, ends once on the transition
// to finished, and a Job deleted unfinished ends Failed with reason Deleted.
func TestRunWatchTellsEachRunOnce(t *testing.T) {
	cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "cj", UID: "cj-uid",
		Labels: map[string]string{reconcile.LabelManagedBy: reconcile.ManagedByValue, reconcile.LabelSync: "s"}}}
	done := ownedJob("done-before", batchv1.JobComplete) // ended while the agent was down
	cs := fake.NewClientset(cj, done)
	sink := make(chanSink, 100)
	w, err := cluster.NewRunWatch(cs, "s", "ns", sink)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := w.Run(ctx); err != nil {
		t.Fatal(err)
	}
	jobs := cs.BatchV1().Jobs("ns")
	update := func(j *batchv1.Job) {
		t.Helper()
		if _, err := jobs.Update(ctx, j, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	run := ownedJob("run")
	if _, err := jobs.Create(ctx, run, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	run.Status.Active = 1
	update(run) // a status change: no news
	run = ownedJob("run", batchv1.JobComplete)
	update(run)
	run.Annotations = map[string]string{"a": "b"}
	update(run) // finished already
	gone := ownedJob("gone")
	if _, err := jobs.Create(ctx, gone, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"gone", "run"} {
		if err := jobs.Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	// a last run: every event before it has been handled once it shows
	if _, err := jobs.Create(ctx, ownedJob("last"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"start done-before", "end done-before Succeeded CompleteReason",
		"start run", "end run Succeeded CompleteReason",
		"start gone", "end gone Failed Deleted",
		"start last",
	}
	var got []string
	for len(got) < len(want) {
		got = append(got, sink.next(t))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("told\n%q\nwant\n%q", got, want)
		}
	}
	if len(sink) != 0 {
		t.Fatalf("told more: %q", <-sink)
	}
}
