package ledger

import (
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/jobsync/jobsync/fleet"
)

// TestSuspendedConcurrentWithView fails under -race when Suspended closes a
// suspension in place while a View evaluates the shared slice.
func TestSuspendedConcurrentWithView(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	l := openTest(t, t.TempDir(), clk)
	defer l.Close()
	spec := Spec{Namespace: "ns", Name: "cj", Schedule: "0 * * * *", Grace: time.Minute}
	// hours later: due times were missed, so Evaluate reads the suspensions
	v := NewView(l, func() []Spec { return []Spec{spec} }, clocktesting.NewFakeClock(t0.Add(3*time.Hour)))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i++ {
			if err := l.Suspended("ns", "cj", i%2 == 0, t0.Add(time.Duration(i)*time.Minute)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for i := 0; i < 200; i++ {
		if got := v.CronJobs(); len(got) != 1 {
			t.Fatalf("CronJobs = %d, want 1", len(got))
		}
	}
	wg.Wait()
}

func manualRun(at time.Time, i int) fleet.Run {
	return fleet.Run{Namespace: "ns", CronJob: "cj", Job: "cj-manual-" + itoa(int64(i)), Trigger: fleet.TriggerManual,
		Start: at, End: at.Add(time.Second), Result: fleet.ResultSucceeded}
}

// TestLastScheduledBeyondRecent: the last scheduled run counts even when it
// is no longer among the recent runs, or pruned, across a restart.
func TestLastScheduledBeyondRecent(t *testing.T) {
	cases := []struct {
		name     string
		created  time.Time // ledger creation
		schedule string
		runs     func() []fleet.Run
		prune    bool
		now      time.Time
	}{
		{name: "daily job, then more manual runs than kept", created: t0.Add(-72 * time.Hour), schedule: "0 12 * * *",
			runs: func() []fleet.Run {
				rs := []fleet.Run{finished(scheduledRun("cj", t0), time.Minute, fleet.ResultSucceeded, "")}
				for i := 0; i < RecentRuns; i++ {
					rs = append(rs, manualRun(t0.Add(time.Duration(i+1)*10*time.Minute), i))
				}
				return rs
			}, now: t0.Add(23 * time.Hour)},
		{name: "period longer than retention, run pruned", created: time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC), schedule: "0 0 1 */2 *",
			runs: func() []fleet.Run {
				return []fleet.Run{finished(scheduledRun("cj", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)), time.Minute, fleet.ResultSucceeded, "")}
			}, prune: true, now: time.Date(2027, 2, 25, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			clk := clocktesting.NewFakeClock(tc.created)
			l := openTest(t, dir, clk)
			if err := l.Record(tc.runs()...); err != nil {
				t.Fatal(err)
			}
			clk.SetTime(tc.now)
			if tc.prune {
				if n, err := l.Prune(); err != nil || n != 1 {
					t.Fatalf("Prune = %d, %v; want 1 run pruned", n, err)
				}
			}
			spec := Spec{Namespace: "ns", Name: "cj", Schedule: tc.schedule, Grace: time.Minute, Created: tc.created}
			for _, restart := range []bool{false, true} {
				if restart {
					l.Close()
					l = openTest(t, dir, clk)
				}
				if h := l.CronJob(spec, tc.now).Health; h.State != fleet.StateHealthy {
					t.Errorf("restart=%v: health = %+v, want Healthy", restart, h)
				}
			}
			l.Close()
		})
	}
}

// TestTooManyWithinStartingDeadline: like the controller, only the due
// times within now - startingDeadlineSeconds count towards TooManyMissed.
func TestTooManyWithinStartingDeadline(t *testing.T) {
	minutely := Spec{Namespace: "ns", Name: "cj", Schedule: "* * * * *", Grace: time.Minute, Created: t0.Add(-time.Hour)}
	ok := finished(scheduledRun("cj", t0), time.Second, fleet.ResultSucceeded, "")
	cases := []struct {
		name   string
		sds    *int64
		reason fleet.MissReason
	}{
		{name: "no deadline: 180 missed is too many", reason: fleet.MissTooMany},
		{name: "deadline 10m: 10 missed within it", sds: ptr.To[int64](600), reason: fleet.MissDeadline},
		{name: "deadline 3h: too many within it", sds: ptr.To[int64](3 * 3600), reason: fleet.MissTooMany},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := minutely
			s.StartingDeadlineSeconds = tc.sds
			h := Evaluate(s, Facts{Runs: []fleet.Run{ok}, Now: t0.Add(3 * time.Hour)})
			if h.State != fleet.StateMissed || h.Reason != string(tc.reason) {
				t.Errorf("health = %+v, want Missed %s", h, tc.reason)
			}
		})
	}
}
