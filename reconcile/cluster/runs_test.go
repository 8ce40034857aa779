package cluster_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jobsync/jobsync/fleet"
	"github.com/jobsync/jobsync/ledger"
	"github.com/jobsync/jobsync/reconcile/cluster"
)

// ledgerSink writes what the watch sees straight into a ledger.
type ledgerSink struct {
	l    *ledger.Ledger
	mu   sync.Mutex
	errs []error
}

func (s *ledgerSink) Started(r fleet.Run) { s.note(s.l.RunStarted(r)) }
func (s *ledgerSink) Finished(r fleet.Run) {
	s.note(s.l.RunFinished(r.Namespace, r.CronJob, r.Job, r.End, r.Result, r.Reason))
}

func (s *ledgerSink) note(err error) {
	if err != nil {
		s.mu.Lock()
		s.errs = append(s.errs, err)
		s.mu.Unlock()
	}
}

// TestRunWatchRecordsCronJobRuns applies a `* * * * *` CronJob and lets the
// real cronjob controller create its Job (≤ 75 s); the watch records the
// run's start, and after its pod fails with exit code 3, the failure with
// the condition's reason and the exit code.
func TestRunWatchRecordsCronJobRuns(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	o := ledger.DefaultOptions()
	o.StateDir = t.TempDir()
	l, err := ledger.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	sink := &ledgerSink{l: l}
	rw, err := cluster.NewRunWatch(env.Client, h.ns, h.ns, sink)
	if err != nil {
		t.Fatal(err)
	}
	if err := rw.Run(h.ctx); err != nil {
		t.Fatal(err)
	}
	h.mustReconcile("r1", cronJob("tick", "* * * * *", "busybox:1"))
	eventually(t, 10*time.Second, "the informer has CronJob/tick", func() error {
		if cjs := rw.CronJobs(); len(cjs) != 1 || cjs[0].Name != "tick" {
			return fmt.Errorf("CronJobs() = %d", len(cjs))
		}
		return nil
	})
	var run fleet.Run
	eventually(t, 75*time.Second, "a run of CronJob/tick in the ledger", func() error {
		runs := l.Runs(h.ns, "tick", 0)
		if len(runs) == 0 {
			return fmt.Errorf("no run")
		}
		run = runs[0]
		return nil
	})
	if run.Trigger != fleet.TriggerScheduled || run.Scheduled.IsZero() || run.Scheduled.Second() != 0 || run.Skew() < 0 || run.Skew() > time.Minute {
		t.Errorf("run %+v: want scheduled at a whole minute, started within a minute", run)
	}
	if _, err := env.FinishJobPods(h.ctx, h.ns, run.Job, 3, time.Minute); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, "the failure of "+run.Job+" in the ledger", func() error {
		for _, r := range l.Runs(h.ns, "tick", 0) {
			if r.Job == run.Job && r.Result == fleet.ResultFailed {
				if r.Reason != "BackoffLimitExceeded: exit code 3" || r.End.Before(r.Start) {
					return fmt.Errorf("failed run %+v", r)
				}
				return nil
			}
		}
		return fmt.Errorf("not failed yet")
	})
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if len(sink.errs) > 0 {
		t.Errorf("ledger errors: %v", sink.errs)
	}
}
