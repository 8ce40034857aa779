package cluster_test

import (
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/jobsync/jobsync/reconcile"
	"github.com/jobsync/jobsync/reconcile/cluster"
)

// TestCronJobProducesJobs applies a `* * * * *` CronJob and waits (≤ 75 s)
// for the real cronjob controller to create its Job. Its pod is failed the way
// a kubelet would (no kubelet here), so the CronJob turns Degraded. Reconciles
// leave the Job alone, and pruning the CronJob never lists its Job.
func TestCronJobProducesJobs(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	docs := []string{cronJob("tick", "* * * * *", "busybox:1"), configMap("other", "1")}
	h.mustReconcile("r1", docs...)

	var child string
	eventually(t, 75*time.Second, "a Job created by CronJob/tick", func() error {
		jobs, err := env.Client.BatchV1().Jobs(h.ns).List(h.ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		for _, j := range jobs.Items {
			if ref := metav1.GetControllerOf(&j); ref != nil && ref.Kind == "CronJob" && ref.Name == "tick" {
				child = j.Name
				return nil
			}
		}
		return fmt.Errorf("%d Jobs, none controlled by tick", len(jobs.Items))
	})
	if _, err := env.FinishJobPods(h.ctx, h.ns, child, 1, time.Minute); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "CronJob/tick Degraded", func() error {
		hs, err := h.tgt.Health(h.ctx)
		if err != nil {
			return err
		}
		for _, s := range hs {
			if s.Ref.Name == "tick" && s.State == cluster.StateDegraded && len(s.FailedJobs) > 0 && s.FailedJobs[0] == child && s.LastScheduleTime != nil {
				return nil
			}
		}
		return fmt.Errorf("health %+v", hs)
	})

	// A no-change reconcile does not touch the CronJob's Job.
	res, writes := h.mustReconcile("r1", docs...)
	if writes != 0 || len(res.Outcomes) != 2 {
		t.Errorf("no-change reconcile: %d writes, outcomes %+v; want 0 writes, 2 outcomes", writes, res.Outcomes)
	}
	// Prune the CronJob: its Job is never a prune of jobsync's (the garbage
	// collector removes it with its owner).
	res, _ = h.mustReconcile("r2", configMap("other", "1"))
	for _, o := range res.Outcomes {
		if o.Change.Ref.Kind == "Job" {
			t.Errorf("outcome for a Job: %+v", o)
		}
	}
	if o := outcome(t, res, "CronJob", "tick"); o.Change.Action != reconcile.ActionPrune || !o.Done {
		t.Errorf("tick: %+v, want pruned", o)
	}
}
