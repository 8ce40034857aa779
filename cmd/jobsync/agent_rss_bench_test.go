package main

import (
	"context"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/jobsync/jobsync/internal/procstat"
)

// BenchmarkAgent10kCronJobsRSS runs the whole agent (Git source, render,
// validation, plan, embedded target) in this process on a real git daemon's
// repository of 10,000 CronJobs spread over the day (none fires during the
// run) and reports its memory with the 10,000 in the store:
//   - rss-MB: VmRSS at rest, after the reconciles and a full collection
//     (rss-anon-MB + rss-file-MB; heap-MB the Go heap in use);
//   - rss-reconcile-MB: VmRSS right after a reconcile of the unchanged
//     repository (render and validation of 10,000 documents), before it;
//   - reconcile-s: wall time of such a reconcile.
//
// The CronJob history of BenchmarkCronJobs10k (reconcile/embedded) is not
// here: that benchmark measures the engine with every-minute CronJobs.
func BenchmarkAgent10kCronJobsRSS(b *testing.B) {
	const n = 10000
	a := startE2EAgent(b, idleFiles(n))
	waitLong(b, "the first apply of 10,000 CronJobs", func() bool {
		st, err := a.client.Status(context.Background())
		return err == nil && st.LastApplied != nil && strings.Contains(st.LastApplied.Revision, a.repo.Head())
	})
	if got := len(mustCronJobs(b, a)); got != n {
		b.Fatalf("%d CronJobs applied, want %d", got, n)
	}
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		st, err := a.client.Status(ctx)
		if err != nil {
			b.Fatal(err)
		}
		before := st.Attempts
		if err := a.client.Reconcile(ctx); err != nil {
			b.Fatal(err)
		}
		waitLong(b, "a reconcile", func() bool {
			st, err := a.client.Status(ctx)
			if err == nil && st.Attempts > before && (st.LastAttempt == nil || st.LastAttempt.Error != "") {
				b.Fatalf("reconcile failed: %+v", st.LastAttempt)
			}
			return err == nil && st.Attempts > before
		})
	}
	b.StopTimer()
	b.ReportMetric(time.Since(start).Seconds()/float64(b.N), "reconcile-s")
	b.ReportMetric(procMB(b, "VmRSS"), "rss-reconcile-MB")
	reportRestingRSS(b)
}

// reportRestingRSS reports the memory at rest after a full collection:
// rss-MB (rss-anon-MB + rss-file-MB) and heap-MB, the Go heap in use.
func reportRestingRSS(b *testing.B) {
	runtime.GC() // a first collection empties the pools into their victims
	debug.FreeOSMemory()
	b.ReportMetric(procMB(b, "VmRSS"), "rss-MB")
	b.ReportMetric(procMB(b, "RssAnon"), "rss-anon-MB")
	b.ReportMetric(procMB(b, "RssFile"), "rss-file-MB")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
}

// waitLong polls cond every second for up to 5 minutes (a status of 10,000
// objects is not free: the polling must not be what is measured).
func waitLong(b *testing.B, what string, cond func() bool) {
	b.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatalf("not within 5 minutes: %s", what)
		}
		time.Sleep(time.Second)
	}
}

// procMB reads one memory line of /proc/self/status in MiB: VmRSS the
// resident set, RssAnon its heap and stacks, RssFile its mapped files (the
// binary, the state file).
func procMB(b *testing.B, field string) float64 {
	mb, err := procstat.MB(field)
	if err != nil {
		b.Fatal(err)
	}
	return mb
}
