package embedded

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/jobsync/jobsync/reconcile"
)

func outcomeOf(t *testing.T, res reconcile.ApplyResult, name string) reconcile.Outcome {
	t.Helper()
	for _, o := range res.Outcomes {
		if o.Change.Ref.Name == name {
			return o
		}
	}
	t.Fatalf("no outcome for %s in %+v", name, res.Outcomes)
	return reconcile.Outcome{}
}

func TestTargetJobOnChange(t *testing.T) {
	changed := func(mode string) func(*batchv1.Job) {
		return func(j *batchv1.Job) {
			j.Annotations = map[string]string{reconcile.AnnotationOnChange: mode}
			j.Spec.Template.Spec.Containers[0].Command = []string{"sh", "-c", "echo v2"}
		}
	}
	cases := []struct {
		name     string
		mode     string
		finished bool
		done     bool
		// recreated: a new Job (new UID) now exists.
		recreated bool
		killed    bool
	}{
		{"recreate-when-finished, running: deferred", reconcile.OnChangeRecreateWhenFinished, false, false, false, false},
		{"recreate-when-finished, finished: recreated", reconcile.OnChangeRecreateWhenFinished, true, true, true, false},
		{"default is recreate-when-finished", "", false, false, false, false},
		{"recreate, running: killed and recreated", reconcile.OnChangeRecreate, false, true, true, true},
		{"ignore: kept", reconcile.OnChangeIgnore, false, true, false, false},
		{"unknown value, finished: kept, not done (as the cluster target)", "Recreate", true, false, false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newEnv(t)
			v.apply(testJob("j", func(j *batchv1.Job) { j.Annotations = map[string]string{reconcile.AnnotationOnChange: tc.mode} }))
			uid := v.job("j").UID
			pod := v.onlyActivePod("j")
			if tc.finished {
				v.exit(pod, 0)
			}
			before, _ := v.e.Target().Inventory(context.Background())
			res := v.apply(testJob("j", changed(tc.mode)))
			o := outcomeOf(t, res, "j")
			if o.Change.Action != reconcile.ActionRecreate || o.Done != tc.done {
				t.Fatalf("outcome %+v, want recreate done=%t", o, tc.done)
			}
			if got := v.job("j").UID != uid; got != tc.recreated {
				t.Fatalf("recreated %t, want %t", got, tc.recreated)
			}
			if got := v.runner.handle(t, pod).killedWith() != ""; got != tc.killed {
				t.Fatalf("old pod killed %t, want %t", got, tc.killed)
			}
			after, _ := v.e.Target().Inventory(context.Background())
			key := reconcile.ObjectRef{Group: "batch", Version: "v1", Kind: "Job", Namespace: "ns", Name: "j"}.Key()
			if kept := after[key].Hash == before[key].Hash; kept == tc.done {
				t.Fatalf("inventory hash kept %t, want it updated only when done", kept)
			}
		})
	}
}

func TestTargetFinishedJobNotRerun(t *testing.T) {
	v := newEnv(t)
	v.apply(testJob("j", nil))
	v.exit(v.onlyActivePod("j"), 0)
	res := v.apply(testJob("j", nil))
	if o := outcomeOf(t, res, "j"); o.Change.Action != reconcile.ActionUnchanged {
		t.Fatalf("outcome %+v", o)
	}
	// Even with the inventory lost, the same spec hash is not run again.
	v.e.mu.Lock()
	v.e.cache.inventory = reconcile.Inventory{}
	v.e.mu.Unlock()
	v.apply(testJob("j", nil))
	if n := len(v.runner.started()); n != 1 || !jobFinished(v.job("j")) {
		t.Fatalf("pods started %d, want the finished Job left alone", n)
	}
}

// TestTargetFinishedJobLabelsKeepPods: a finished Job updated in place (a
// label from Git) keeps its pods, and its pods go when it is pruned.
func TestTargetFinishedJobLabelsKeepPods(t *testing.T) {
	v := newEnv(t)
	v.apply(testJob("j", nil))
	pod := v.onlyActivePod("j")
	v.exit(pod, 0)
	res := v.apply(testJob("j", func(j *batchv1.Job) { j.Labels = map[string]string{"team": "a"} }))
	if o := outcomeOf(t, res, "j"); !strings.Contains(o.Reason, "updated in place") || o.Err != "" {
		t.Fatalf("outcome %+v, want an update in place", o)
	}
	if j := v.job("j"); j.Labels["team"] != "a" || !jobFinished(j) {
		t.Fatalf("Job labels %v finished %v", j.Labels, jobFinished(j))
	}
	ps, err := v.e.JobPods("ns", "j")
	if err != nil || len(ps) != 1 || ps[0].Name != pod {
		t.Fatalf("pods of the updated Job: %v %v, want %s", ps, err, pod)
	}
	v.apply()
	if ps := v.e.ListPods(); len(ps) != 0 {
		t.Errorf("pods after the Job was pruned: %d, want none", len(ps))
	}
}

func TestTargetPrune(t *testing.T) {
	v := newEnv(t)
	cm := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}, ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "ns"}, Data: map[string]string{"k": "v"}}
	sec := &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: metav1.ObjectMeta{Name: "sec", Namespace: "ns"}, StringData: map[string]string{"t": "x"}}
	v.apply(testCronJob("cj", "* * * * *", nil), cm, sec)
	if c, ok := v.e.cache.refs.ConfigMap("ns", "cfg"); !ok || c.Data["k"] != "v" {
		t.Fatal("ConfigMap not stored")
	}
	if s, ok := v.e.cache.refs.Secret("ns", "sec"); !ok || string(s.Data["t"]) != "x" {
		t.Fatal("Secret stringData not stored as data")
	}
	v.at(time.Minute + time.Second)
	pod := v.onlyActivePod(slotJob("cj", time.Minute))
	res := v.apply()
	if n := res.Outcomes; len(n) != 3 || v.e.Target() == nil {
		t.Fatalf("outcomes %+v", n)
	}
	v.step()
	if len(v.e.ListCronJobs()) != 0 || len(v.jobs()) != 0 || len(v.e.ListPods()) != 0 {
		t.Fatalf("prune left %d CronJobs, %d Jobs, %d pods", len(v.e.ListCronJobs()), len(v.jobs()), len(v.e.ListPods()))
	}
	if v.runner.handle(t, pod).killedWith() == "" {
		t.Fatal("the pruned CronJob's running pod was not killed")
	}
	if _, ok := v.e.cache.refs.ConfigMap("ns", "cfg"); ok {
		t.Fatal("ConfigMap not pruned")
	}
	if inv, _ := v.e.Target().Inventory(context.Background()); len(inv) != 0 {
		t.Fatalf("inventory %v after prune", inv)
	}
}

func TestTargetInventoryPersists(t *testing.T) {
	v := newEnv(t)
	v.apply(testCronJob("cj", "* * * * *", nil), testJob("j", nil))
	v.crash()
	v.open()
	inv, err := v.e.Target().Inventory(context.Background())
	if err != nil || len(inv) != 2 {
		t.Fatalf("inventory after restart %v (%v)", inv, err)
	}
	for _, e := range inv {
		if e.Revision != "rev" || e.Hash == "" {
			t.Fatalf("entry %+v", e)
		}
	}
}

func TestTargetBadObjectAppliesNothing(t *testing.T) {
	v := newEnv(t)
	good := testCronJob("cj", "* * * * *", nil)
	m, _ := runtime.DefaultUnstructuredConverter.ToUnstructured(testJob("bad", nil))
	m["spec"].(map[string]any)["parallelism"] = "two"
	d := desiredFromMap(t, m)
	cs := reconcile.ChangeSet{Revision: "r", Changes: []reconcile.Change{
		{Ref: reconcile.ObjectRef{Group: "batch", Version: "v1", Kind: "CronJob", Namespace: "ns", Name: "cj"}, Action: reconcile.ActionCreate, Desired: desiredOf(t, good)},
		{Ref: d.Ref, Action: reconcile.ActionCreate, Desired: d},
	}}
	_, err := v.e.Target().Apply(context.Background(), cs)
	if err == nil || !strings.Contains(err.Error(), "Job/ns/bad") {
		t.Fatalf("err %v, want one naming Job/ns/bad", err)
	}
	if len(v.e.ListCronJobs()) != 0 {
		t.Fatal("half of a failed change set was applied")
	}
}

func TestReadOnlyAndLock(t *testing.T) {
	v := newEnv(t)
	v.apply(testCronJob("cj", "* * * * *", nil))
	o := DefaultOptions()
	o.StateDir, o.ReadOnly, o.LockTimeout = v.dir, true, 50*time.Millisecond
	if _, err := New(o); !errors.Is(err, ErrLocked) {
		t.Fatalf("read-only open while the agent holds the file: %v, want ErrLocked", err)
	}
	if err := v.e.Close(); err != nil {
		t.Fatal(err)
	}
	v.e = nil
	ro, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if cjs := ro.ListCronJobs(); len(cjs) != 1 || cjs[0].Name != "cj" {
		t.Fatalf("read-only list %v", cjs)
	}
	if _, err := ro.Trigger("ns", "cj"); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("trigger on read-only: %v", err)
	}
	if _, err := ro.Target().Apply(context.Background(), reconcile.ChangeSet{}); err == nil {
		t.Fatal("apply on a read-only engine succeeded")
	}
}

// TestListCronJobsTypeMeta: listed CronJobs say what they are, before and
// after a restart (the store's encoding does not keep apiVersion and kind).
func TestListCronJobsTypeMeta(t *testing.T) {
	v := newEnv(t)
	v.apply(testCronJob("c", "0 * * * *", nil))
	for _, when := range []string{"applied", "after a restart"} {
		cjs := v.e.ListCronJobs()
		if len(cjs) != 1 || cjs[0].APIVersion != "batch/v1" || cjs[0].Kind != "CronJob" {
			t.Errorf("%s: CronJobs %+v, want one with apiVersion batch/v1, kind CronJob", when, cjs)
		}
		v.crash()
		v.open()
	}
}
