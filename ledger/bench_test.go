package ledger

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/jobsync/jobsync/fleet"
	"github.com/jobsync/jobsync/internal/procstat"
	"github.com/jobsync/jobsync/schedule"
)

// benchFleet is the Kubernetes blog's CronJob GA workload shape: 5,000
// CronJobs, 20 every minute and the rest daily (spread over the day).
func benchFleet() []Spec {
	specs := make([]Spec, 0, 5000)
	for i := range 5000 {
		s := Spec{Namespace: fmt.Sprintf("team-%02d", i%50), Name: fmt.Sprintf("cj-%04d", i), Schedule: "* * * * *",
			Grace: DefaultGrace, Created: t0.Add(-31 * 24 * time.Hour)}
		if i < 20 {
			s.Grace = benchGrace // jobsync.io/grace: 30s (with 60 s, the next minute comes first: Missed)
		} else {
			s.Schedule = fmt.Sprintf("%d %d * * *", i%60, (i/60)%24)
		}
		specs = append(specs, s)
	}
	return specs
}

// fill records 30 days of runs before end for specs: every due time ran,
// 1-3 s late; every-minute runs last 10 s, daily ones 5 minutes; one run in
// 50 fails. It returns how many runs it wrote.
func fill(b *testing.B, l *Ledger, specs []Spec, end time.Time) int {
	n := 0
	batch := make([]fleet.Run, 0, 20000)
	flush := func() {
		if err := l.Record(batch...); err != nil {
			b.Fatal(err)
		}
		n += len(batch)
		batch = batch[:0]
	}
	for _, s := range specs {
		sched, loc, err := parse(s)
		if err != nil {
			b.Fatal(err)
		}
		run := 10 * time.Second
		if s.Schedule != "* * * * *" {
			run = 5 * time.Minute
		}
		for t := schedule.Next(sched, loc, end.Add(-30*24*time.Hour)); !t.After(end); t = schedule.Next(sched, loc, t) {
			r := fleet.Run{Namespace: s.Namespace, CronJob: s.Name, Job: fmt.Sprintf("%s-%d", s.Name, t.Unix()/60), Trigger: fleet.TriggerScheduled,
				Scheduled: t, Start: t.Add(time.Second + time.Duration(n%2000)*time.Millisecond), Result: fleet.ResultSucceeded}
			r.End = r.Start.Add(run)
			if (n+len(batch))%50 == 0 {
				r.Result, r.Reason = fleet.ResultFailed, "BackoffLimitExceeded: exit code 1"
			}
			if batch = append(batch, r); len(batch) == cap(batch) {
				flush()
			}
		}
	}
	flush()
	return n
}

// BenchmarkLedger30Days5kCronJobs measures, for 5,000 CronJobs (20 every
// minute, the rest daily) and 30 days of their runs (~1M): the ledger's size
// on disk, the time to open it (loading each CronJob's recent runs), one
// health evaluation of the whole fleet (what the agent does every
// --health-interval), the delay past grace at which a Late CronJob is seen
// (interval + p99 evaluation), and the process's resident memory with the
// ledger open. Run with -benchtime 1x.
func BenchmarkLedger30Days5kCronJobs(b *testing.B) {
	for range b.N {
		dir := b.TempDir()
		end := t0
		clk := clocktesting.NewFakeClock(end)
		o := DefaultOptions()
		o.StateDir, o.Clock = dir, clk
		l, err := Open(o)
		if err != nil {
			b.Fatal(err)
		}
		specs := benchFleet()
		w0 := time.Now()
		runs := fill(b, l, specs, end)
		writeS := time.Since(w0).Seconds()
		l.Close()
		fi, err := os.Stat(filepath.Join(dir, LedgerFile))
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		debug.FreeOSMemory()
		o0 := time.Now()
		if l, err = Open(o); err != nil {
			b.Fatal(err)
		}
		openMS := float64(time.Since(o0).Microseconds()) / 1000
		view := NewView(l, func() []Spec { return specs }, clk)
		// The minute after end has no run: from due + grace + 1 ms the 20
		// every-minute CronJobs must be Late.
		due := end.Add(time.Minute)
		var evals []time.Duration
		for i := range 30 {
			clk.SetTime(due.Add(benchGrace + time.Duration(i+1)*time.Millisecond))
			e0 := time.Now()
			cjs := view.CronJobs()
			evals = append(evals, time.Since(e0))
			if late := countState(cjs, fleet.StateLate); late != 20 {
				b.Fatalf("%d Late CronJobs at due + grace, want the 20 every-minute ones", late)
			}
		}
		slices.Sort(evals)
		p99 := evals[len(evals)*99/100]
		runtime.GC()
		debug.FreeOSMemory()
		rss, _ := procstat.MB("VmRSS")
		b.ReportMetric(float64(runs), "runs")
		b.ReportMetric(float64(fi.Size())/(1<<20), "MB-on-disk")
		b.ReportMetric(writeS, "s-to-write")
		b.ReportMetric(openMS, "ms-to-open")
		b.ReportMetric(float64(p99.Microseconds())/1000, "ms-eval-p99")
		b.ReportMetric((DefaultHealthIntervalForBench + p99).Seconds(), "s-late-past-grace-p99")
		b.ReportMetric(rss, "MB-RSS")
		l.Close()
	}
}

// DefaultHealthIntervalForBench is the agent's default --health-interval.
const DefaultHealthIntervalForBench = 2 * time.Second

const benchGrace = 30 * time.Second

func countState(cjs []fleet.CronJob, s fleet.State) int {
	n := 0
	for _, c := range cjs {
		if c.Health.State == s {
			n++
		}
	}
	return n
}
