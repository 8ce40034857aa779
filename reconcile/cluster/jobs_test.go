package cluster_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/jobsync/jobsync/reconcile"
	"github.com/jobsync/jobsync/reconcile/cluster"
)

// job is a one-pod Job; extra is added under spec (indented by 2).
func job(name, image, onChange, extra string) string {
	ann := ""
	if onChange != "" {
		ann = fmt.Sprintf("\n  annotations:\n    %s: %s", reconcile.AnnotationOnChange, onChange)
	}
	return fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata:
  name: %s%s
spec:
  backoffLimit: 0
%s  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: %s
`, name, ann, extra, image)
}

func image(u *unstructured.Unstructured) string {
	cs, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
	if len(cs) == 0 {
		return ""
	}
	img, _ := cs[0].(map[string]any)["image"].(string)
	return img
}

// finishJob finishes the Job's pods as a kubelet would (there is no kubelet
// in this control plane) and waits until the Job controller records it.
func (h *harness) finishJob(name string, exitCode int32) {
	h.t.Helper()
	if _, err := env.FinishJobPods(h.ctx, h.ns, name, exitCode, time.Minute); err != nil {
		h.t.Fatal(err)
	}
	want := cluster.StateSucceeded
	if exitCode != 0 {
		want = cluster.StateFailed
	}
	eventually(h.t, time.Minute, "Job/"+name+" "+string(want), func() error {
		hs, err := h.tgt.Health(h.ctx)
		if err != nil {
			return err
		}
		for _, s := range hs {
			if s.Ref.Kind == "Job" && s.Ref.Name == name && s.State == want {
				return nil
			}
		}
		return fmt.Errorf("health %+v", hs)
	})
}

// TestJobRecreateOnChange changes the image of a running Job under each
// jobsync.io/on-change mode.
func TestJobRecreateOnChange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, mode string
		// wantNew: the Job is recreated with the new image at once.
		wantNew  bool
		wantDone bool
	}{
		{name: "default waits for the Job to finish", mode: "", wantNew: false, wantDone: false},
		{name: "recreate-when-finished", mode: reconcile.OnChangeRecreateWhenFinished, wantNew: false, wantDone: false},
		{name: "recreate", mode: reconcile.OnChangeRecreate, wantNew: true, wantDone: true},
		{name: "ignore", mode: reconcile.OnChangeIgnore, wantNew: false, wantDone: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			h.mustReconcile("r1", job("work", "busybox:1", tc.mode, ""))
			old := h.mustGet("jobs", "work")

			res, _ := h.mustReconcile("r2", job("work", "busybox:2", tc.mode, ""))
			o := outcome(t, res, "Job", "work")
			if o.Change.Action != reconcile.ActionRecreate || o.Done != tc.wantDone || o.Reason == "" {
				t.Errorf("outcome %+v, want recreate done=%v with a reason", o, tc.wantDone)
			}
			live := h.mustGet("jobs", "work")
			if gotNew := live.GetUID() != old.GetUID() && image(live) == "busybox:2"; gotNew != tc.wantNew {
				t.Fatalf("recreated with the new image = %v (uid %s → %s, image %s), want %v", gotNew, old.GetUID(), live.GetUID(), image(live), tc.wantNew)
			}
			if tc.wantNew {
				return
			}
			// Not replaced yet: a repeated reconcile writes nothing.
			_, again, writes, err := h.reconcile("r2", job("work", "busybox:2", tc.mode, ""))
			if err != nil || writes != 0 {
				t.Errorf("repeat while kept: %v, %d writes; want no error, 0 writes", err, writes)
			}
			if o2 := outcome(t, again, "Job", "work"); o2.Done != tc.wantDone {
				t.Errorf("repeat: %+v", o2)
			}
			// Once the running Job finished, recreate-when-finished replaces it; ignore never does.
			h.finishJob("work", 0)
			res, _ = h.mustReconcile("r2", job("work", "busybox:2", tc.mode, ""))
			live = h.mustGet("jobs", "work")
			replaced := live.GetUID() != old.GetUID() && image(live) == "busybox:2"
			if want := tc.mode != reconcile.OnChangeIgnore; replaced != want {
				t.Errorf("after the Job finished: replaced = %v, want %v (outcome %+v)", replaced, want, outcome(t, res, "Job", "work"))
			}
		})
	}
}

// TestJobMutableChangeInPlace: a change of mutable fields only (labels,
// ttlSecondsAfterFinished) updates the Job without re-running it.
func TestJobMutableChangeInPlace(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.mustReconcile("r1", job("work", "busybox:1", "", ""))
	old := h.mustGet("jobs", "work")
	res, _ := h.mustReconcile("r2", job("work", "busybox:1", "", "  ttlSecondsAfterFinished: 3600\n"))
	if o := outcome(t, res, "Job", "work"); !o.Done || !strings.Contains(o.Reason, "in place") {
		t.Errorf("outcome %+v, want done in place", o)
	}
	live := h.mustGet("jobs", "work")
	ttl, _, _ := unstructured.NestedInt64(live.Object, "spec", "ttlSecondsAfterFinished")
	if live.GetUID() != old.GetUID() || ttl != 3600 {
		t.Errorf("uid %s → %s, ttl %d; want the same Job with ttl 3600", old.GetUID(), live.GetUID(), ttl)
	}
}

// TestTTLDeletedJobNotRecreated: a Job deleted by its ttlSecondsAfterFinished
// is not created again for the same spec; a changed spec runs again.
func TestTTLDeletedJobNotRecreated(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	doc := job("once", "busybox:1", "", "  ttlSecondsAfterFinished: 0\n")
	h.mustReconcile("r1", doc)
	if _, err := env.FinishJobPods(h.ctx, h.ns, "once", 0, time.Minute); err != nil {
		t.Fatal(err)
	}
	// The real ttl-after-finished controller deletes it.
	eventually(t, time.Minute, "TTL deletion of Job/once", func() error {
		if _, err := h.get("jobs", "once"); !apierrors.IsNotFound(err) {
			return fmt.Errorf("still there (%v)", err)
		}
		return nil
	})
	res, writes := h.mustReconcile("r2", doc)
	if o := outcome(t, res, "Job", "once"); !o.Done || !strings.Contains(o.Reason, "already ran") {
		t.Errorf("outcome %+v, want done: already ran", o)
	}
	if _, err := h.get("jobs", "once"); !apierrors.IsNotFound(err) || writes != 0 {
		t.Errorf("same spec after TTL: get %v, %d writes; want not created, 0 writes", err, writes)
	}
	hs, err := h.tgt.Health(h.ctx)
	if err != nil || len(hs) != 1 || hs[0].State != cluster.StateGone {
		t.Errorf("health = %+v, %v; want one Gone Job", hs, err)
	}
	res, _ = h.mustReconcile("r3", job("once", "busybox:2", "", "  ttlSecondsAfterFinished: 0\n"))
	if o := outcome(t, res, "Job", "once"); !o.Done || o.Change.Action != reconcile.ActionRecreate {
		t.Errorf("changed spec: %+v, want a done recreate", o)
	}
	if img := image(h.mustGet("jobs", "once")); img != "busybox:2" {
		t.Errorf("changed spec: image %q, want busybox:2 running again", img)
	}
}

// TestWaitAndHealth waits for a revision's Jobs: one succeeds, then a failing
// one makes Wait fail, and a Job that never finishes times out.
func TestWaitAndHealth(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.mustReconcile("r1", job("ok", "busybox:1", "", ""))
	go func() {
		// Finish the pod as a kubelet would, while Wait waits.
		_, _ = env.FinishJobPods(h.ctx, h.ns, "ok", 0, time.Minute)
	}()
	hs, err := h.tgt.Wait(h.ctx, "r1", time.Minute)
	if err != nil || len(hs) != 1 || hs[0].State != cluster.StateSucceeded {
		t.Fatalf("Wait r1 = %+v, %v; want Job ok Succeeded", hs, err)
	}

	h.mustReconcile("r2", job("ok", "busybox:1", "", ""), job("bad", "busybox:1", "", ""))
	go func() { _, _ = env.FinishJobPods(h.ctx, h.ns, "bad", 1, time.Minute) }()
	hs, err = h.tgt.Wait(h.ctx, "r2", time.Minute)
	if !errors.Is(err, cluster.ErrJobFailed) || len(hs) != 1 || hs[0].Reason != "BackoffLimitExceeded" {
		t.Fatalf("Wait r2 = %+v, %v; want ErrJobFailed for Job bad (BackoffLimitExceeded)", hs, err)
	}

	h.mustReconcile("r3", job("ok", "busybox:1", "", ""), job("bad", "busybox:1", "", ""), job("slow", "busybox:1", "", ""))
	if _, err := h.tgt.Wait(h.ctx, "r3", time.Second); !errors.Is(err, cluster.ErrWaitTimeout) || !strings.Contains(err.Error(), "slow") {
		t.Errorf("Wait r3 = %v, want ErrWaitTimeout naming Job slow", err)
	}
}
