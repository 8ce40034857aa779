package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jobsync/jobsync/fleet"
	"github.com/jobsync/jobsync/ledger"
)

// BenchmarkAgent5kCronJobsLedgerRSS runs the whole agent (embedded target)
// on 5,000 CronJobs (4,980 daily ones from Git, none due during the run)
// with a run ledger of 30 days filled beforehand in the blog's GA shape (20
// every-minute CronJobs' 43,200 runs each, 30 runs for each daily one), and
// reports its resident memory at rest once the health loop and a scrape of
// /metrics have gone over the fleet. Run with -benchtime 1x.
func BenchmarkAgent5kCronJobsLedgerRSS(b *testing.B) {
	const n = 4980
	state := filepath.Join(b.TempDir(), "state")
	runs := prefillLedger(b, state, n, time.Now())
	a := startE2EAgentIn(b, idleFiles(n), state)
	waitLong(b, "the first apply of 4,980 CronJobs", func() bool {
		st, err := a.client.Status(context.Background())
		return err == nil && st.LastApplied != nil && strings.Contains(st.LastApplied.Revision, a.repo.Head())
	})
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		cjs, err := a.client.FleetCronJobs(ctx)
		if err != nil || len(cjs) != n {
			b.Fatalf("fleet: %d CronJobs, %v", len(cjs), err)
		}
		time.Sleep(3 * time.Second) // the health loop goes over them (every 2 s)
	}
	b.StopTimer()
	b.ReportMetric(float64(runs), "ledger-runs")
	reportRestingRSS(b)
}

// prefillLedger writes 30 days of runs before end into state's ledger: the
// n daily CronJobs of idleFiles (namespace e2e) and 20 every-minute ones.
func prefillLedger(b *testing.B, state string, n int, end time.Time) int {
	o := ledger.DefaultOptions()
	o.StateDir = state
	l, err := ledger.Open(o)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	total := 0
	add := func(name string, every time.Duration, count int) {
		batch := make([]fleet.Run, 0, count)
		for i := range count {
			due := end.Add(-time.Duration(count-i) * every).Truncate(time.Minute)
			batch = append(batch, fleet.Run{Namespace: "e2e", CronJob: name, Job: fmt.Sprintf("%s-%d", name, due.Unix()/60),
				Trigger: fleet.TriggerScheduled, Scheduled: due, Start: due.Add(time.Second), End: due.Add(time.Minute), Result: fleet.ResultSucceeded})
		}
		if err := l.Record(batch...); err != nil {
			b.Fatal(err)
		}
		total += len(batch)
	}
	for i := range 20 {
		add(fmt.Sprintf("minutely-%02d", i), time.Minute, 30*24*60)
	}
	for i := range n {
		add(fmt.Sprintf("cj-%04d", i), 24*time.Hour, 30)
	}
	return total
}
