package ledger

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/jobsync/jobsync/fleet"
)

var t0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func openTest(t *testing.T, dir string, clk *clocktesting.FakeClock) *Ledger {
	t.Helper()
	o := DefaultOptions()
	o.StateDir, o.Clock = dir, clk
	l, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func scheduledRun(cj string, at time.Time) fleet.Run {
	return fleet.Run{Namespace: "ns", CronJob: cj, Job: cj + "-" + itoa(at.Unix()/60), Trigger: fleet.TriggerScheduled,
		Scheduled: at, Start: at.Add(1500 * time.Millisecond), Result: fleet.ResultRunning}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestCodecRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		run  fleet.Run
	}{
		{"scheduled running", scheduledRun("cj", t0)},
		{"succeeded", func() fleet.Run {
			r := scheduledRun("cj", t0)
			r.End, r.Result, r.Reason = t0.Add(time.Minute), fleet.ResultSucceeded, "CompletionsReached"
			return r
		}()},
		{"manual failed with exit code", fleet.Run{Namespace: "ns", CronJob: "cj", Job: "cj-manual-x7k", Trigger: fleet.TriggerManual,
			Start: t0, End: t0.Add(3 * time.Second), Result: fleet.ResultFailed, Reason: "BackoffLimitExceeded: exit code 3"}},
		{"catch-up OOMKilled", fleet.Run{Namespace: "ns", CronJob: "cj", Job: "cj-0123", Trigger: fleet.TriggerCatchUp,
			Scheduled: t0.Add(-time.Hour), Start: t0, End: t0.Add(time.Hour), Result: fleet.ResultFailed, Reason: "OOMKilled"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeRun("ns", "cj", runKey(tc.run.Start), encodeRun(tc.run))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.run) {
				t.Errorf("round trip\n got %+v\nwant %+v", got, tc.run)
			}
		})
	}
	if _, err := decodeRun("ns", "cj", runKey(t0), []byte{0x40, 0x80}); !errors.Is(err, errCorrupt) {
		t.Errorf("truncated value: err = %v, want errCorrupt", err)
	}
}

func TestRecordFinishIdempotentAndSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	clk := clocktesting.NewFakeClock(t0)
	l := openTest(t, dir, clk)
	r := scheduledRun("cj", t0)
	for range 2 {
		if err := l.RunStarted(r); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		if err := l.RunFinished("ns", "cj", r.Job, t0.Add(time.Minute), fleet.ResultFailed, "DeadlineExceeded"); err != nil {
			t.Fatal(err)
		}
	}
	// a replayed start (an informer's resync) does not reopen a finished run
	if err := l.RunStarted(r); err != nil {
		t.Fatal(err)
	}
	if err := l.RunFinished("ns", "cj", "ghost", t0, fleet.ResultSucceeded, ""); !errors.Is(err, ErrUnknownRun) {
		t.Errorf("unknown job: err = %v, want ErrUnknownRun", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, LedgerFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("ledger file: %v, mode %v, want 0600", err, fi.Mode().Perm())
	}
	l = openTest(t, dir, clk)
	defer l.Close()
	runs := l.Runs("ns", "cj", 0)
	if len(runs) != 1 || runs[0].Result != fleet.ResultFailed || runs[0].Reason != "DeadlineExceeded" || !runs[0].End.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after restart: %+v", runs)
	}
	c := l.CronJob(Spec{Namespace: "ns", Name: "cj", Schedule: "0 * * * *"}, t0.Add(2*time.Minute))
	if c.LastResult != fleet.ResultFailed || !c.LastFailure.Equal(t0.Add(time.Minute)) || len(c.Recent) != 1 {
		t.Errorf("cached summary after restart: %+v", c)
	}
}

func TestRecentAndRunsOrder(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	l := openTest(t, t.TempDir(), clk)
	defer l.Close()
	var all []fleet.Run
	for i := range RecentRuns + 5 {
		r := scheduledRun("cj", t0.Add(time.Duration(i)*time.Minute))
		r.End, r.Result = r.Start.Add(time.Second), fleet.ResultSucceeded
		all = append(all, r)
	}
	// recorded out of order: the ledger orders by start
	if err := l.Record(all[5:]...); err != nil {
		t.Fatal(err)
	}
	if err := l.Record(all[:5]...); err != nil {
		t.Fatal(err)
	}
	runs := l.Runs("ns", "cj", 3)
	if len(runs) != 3 || runs[0].Job != all[len(all)-1].Job || runs[2].Job != all[len(all)-3].Job {
		t.Errorf("Runs(3) = %v", jobs(runs))
	}
	if n := len(l.Runs("ns", "cj", 0)); n != len(all) {
		t.Errorf("Runs(0) = %d runs, want %d", n, len(all))
	}
	f := l.Facts("ns", "cj", t0)
	if len(f.Runs) != RecentRuns || f.Runs[0].Job != all[5].Job {
		t.Errorf("recent = %v, want the newest %d oldest first", jobs(f.Runs), RecentRuns)
	}
}

func jobs(runs []fleet.Run) []string {
	var out []string
	for _, r := range runs {
		out = append(out, r.Job)
	}
	return out
}

func TestPrune(t *testing.T) {
	clk := clocktesting.NewFakeClock(t0)
	l := openTest(t, t.TempDir(), clk)
	defer l.Close()
	if err := l.Record(scheduledRun("old", t0), scheduledRun("cj", t0), scheduledRun("cj", t0.Add(20*24*time.Hour))); err != nil {
		t.Fatal(err)
	}
	clk.SetTime(t0.Add(31 * 24 * time.Hour))
	n, err := l.Prune()
	if err != nil || n != 2 {
		t.Fatalf("Prune = %d, %v; want 2", n, err)
	}
	if got := l.Runs("ns", "cj", 0); len(got) != 1 || !got[0].Scheduled.Equal(t0.Add(20*24*time.Hour)) {
		t.Errorf("kept %v", jobs(got))
	}
	if got := l.Runs("ns", "old", 0); len(got) != 0 {
		t.Errorf("old CronJob kept %v", jobs(got))
	}
}

func TestUpRecordsAgentGaps(t *testing.T) {
	dir := t.TempDir()
	clk := clocktesting.NewFakeClock(t0)
	l := openTest(t, dir, clk)
	for i := range 4 {
		clk.SetTime(t0.Add(time.Duration(i) * 5 * time.Second))
		if err := l.Up(); err != nil {
			t.Fatal(err)
		}
	}
	l.Close()
	down := clk.Now()
	clk.SetTime(down.Add(10 * time.Minute))
	l = openTest(t, dir, clk)
	defer l.Close()
	// read before this session's Up: a stopped agent is down since its last Up
	if f := l.Facts("ns", "cj", clk.Now()); len(f.AgentGaps) != 1 || !f.AgentGaps[0].Contains(down.Add(time.Minute)) {
		t.Errorf("stopped agent's gaps = %+v", f.AgentGaps)
	}
	if err := l.Up(); err != nil {
		t.Fatal(err)
	}
	g := l.AgentGaps()
	if len(g) != 1 || !g[0].Contains(down.Add(time.Minute)) || g[0].Contains(clk.Now()) {
		t.Errorf("gaps = %+v, want one from before %s to %s", g, down, clk.Now())
	}
}

func TestLastFailureOlderThanRecentSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	clk := clocktesting.NewFakeClock(t0)
	l := openTest(t, dir, clk)
	bad := finished(scheduledRun("cj", t0), time.Second, fleet.ResultFailed, "DeadlineExceeded")
	runs := []fleet.Run{bad}
	for i := 1; i <= RecentRuns+5; i++ {
		runs = append(runs, finished(scheduledRun("cj", t0.Add(time.Duration(i)*time.Hour)), time.Second, fleet.ResultSucceeded, ""))
	}
	if err := l.Record(runs...); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l = openTest(t, dir, clk)
	defer l.Close()
	c := l.CronJob(Spec{Namespace: "ns", Name: "cj", Schedule: "0 * * * *"}, t0.Add(26*time.Hour))
	if !c.LastFailure.Equal(bad.End) || !c.LastSuccess.Equal(runs[len(runs)-1].End) || len(c.Recent) != RecentRuns {
		t.Errorf("after restart: last failure %s (want %s), last success %s, %d recent", c.LastFailure, bad.End, c.LastSuccess, len(c.Recent))
	}
}
