package embedded

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/jobsync/jobsync/internal/procstat"
	"github.com/jobsync/jobsync/reconcile"
	"github.com/jobsync/jobsync/reconcile/embedded/podexec"
)

// instantRunner's pods succeed as soon as they start.
type instantRunner struct{ clock *clocktesting.FakeClock }

func (r instantRunner) Start(_ context.Context, pod *corev1.Pod, _ podexec.Lookup) (podexec.Handle, error) {
	h := &fakeHandle{pod: pod, clock: r.clock, done: make(chan struct{})}
	h.st = corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "main"}}}
	h.exit(0)
	return h, nil
}

// newBenchEngine opens an engine on a fake clock at t0, without periodic
// re-syncs, whose pods succeed as soon as they start.
func newBenchEngine(b *testing.B) (*Engine, *clocktesting.FakeClock) {
	c := clocktesting.NewFakeClock(t0)
	o := DefaultOptions()
	o.StateDir, o.Clock, o.Runner, o.SyncPeriod = b.TempDir(), c, instantRunner{c}, 0
	e, err := New(o)
	if err != nil {
		b.Fatal(err)
	}
	return e, c
}

// applyCronJobs applies the CronJobs cronJob(0) … cronJob(n−1) in one change
// set and runs the syncs that are due.
func applyCronJobs(b *testing.B, e *Engine, n int, cronJob func(i int) *batchv1.CronJob) {
	cs := reconcile.ChangeSet{Revision: "bench"}
	for i := range n {
		d := desiredOf(b, cronJob(i))
		cs.Changes = append(cs.Changes, reconcile.Change{Ref: d.Ref, Action: reconcile.ActionCreate, Desired: d})
	}
	if _, err := e.Target().Apply(context.Background(), cs); err != nil {
		b.Fatal(err)
	}
	e.step()
}

// BenchmarkCronJobs10k keeps 10,000 every-minute CronJobs in the store and,
// per iteration, moves the clock to the next minute (plus the controller's
// 100 ms requeue padding, when Run's timer would fire) and runs the due syncs. It reports the p99 delay
// from the scheduled time to the commit of the Job (padding included) in
// wall time and, as p99-delay-cpu-ms, in CPU time (the padding plus the CPU
// used until 99% of the minute's Jobs were committed, worst minute: the wall
// delay on a machine with a free core), the CPU per minute, and the memory with 10k CronJobs and their history (up to
// 3 succeeded and 1 failed Job each, with pods) loaded: rss-MB is VmRSS,
// the sum of rss-anon-MB (heap, stacks) and rss-file-MB (the pages of the
// memory-mapped bbolt file this process touched: page cache).
func BenchmarkCronJobs10k(b *testing.B) {
	const n = 10000
	e, c := newBenchEngine(b)
	defer e.Close()
	applyCronJobs(b, e, n, func(i int) *batchv1.CronJob {
		return testCronJob(fmt.Sprintf("cj-%05d", i), "* * * * *", nil)
	})
	var delays []time.Duration
	created := map[string]bool{}
	var start, slot time.Time
	// The CPU the process used from the start of a minute's step until 99%
	// of that minute's Jobs were committed: the p99 delay on a free core.
	var startCPU time.Duration
	var createCPU []time.Duration
	iterCreated := 0
	e.onCommit = func(bt *batch) {
		for d := range bt.dirty {
			if d.kind == KindJob && !created[d.key] && e.cache.jobs[d.key] != nil && e.cache.jobs[d.key].CreationTimestamp.Time.Equal(slot) {
				created[d.key] = true
				delays = append(delays, nextScheduleDelta+time.Since(start))
				if iterCreated++; iterCreated == n*99/100 {
					createCPU = append(createCPU, cpuTime(b)-startCPU)
				}
			}
		}
	}
	// The bulk apply of 10,000 CronJobs leaves garbage that a running agent
	// would long have returned: rss-running-MB is about the minutes after.
	debug.FreeOSMemory()
	b.ResetTimer()
	cpu0 := cpuTime(b)
	for i := range b.N {
		slot = t0.Add(time.Duration(i+1) * time.Minute)
		c.SetTime(slot.Add(nextScheduleDelta))
		start, startCPU, iterCreated = time.Now(), cpuTime(b), 0
		clear(created) // a minute's Jobs have its own names: keep the bookkeeping out of the RSS
		// No enqueueAll: each CronJob comes due from the queue at the time its
		// last sync asked for (the fire time plus the padding), as in Run.
		e.step()
		if err := e.LastError(); err != nil {
			b.Fatal(err)
		}
	}
	cpu := cpuTime(b) - cpu0
	b.StopTimer()
	if want := n * b.N; len(delays) < want {
		b.Fatalf("%d Jobs created, want %d", len(delays), want)
	}
	slices.Sort(delays)
	b.ReportMetric(float64(delays[len(delays)*99/100].Milliseconds()), "p99-delay-ms")
	b.ReportMetric(float64(delays[len(delays)/2].Milliseconds()), "p50-delay-ms")
	// The delays are wall time: on a shared machine they grow with its load.
	// The CPU of a whole minute (10k Jobs created, run, finished, history
	// cleaned up) tells what one free core would need.
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/minute")
	slices.Sort(createCPU)
	b.ReportMetric(float64((nextScheduleDelta + createCPU[len(createCPU)-1]).Milliseconds()), "p99-delay-cpu-ms")
	// As the process is between two collections (garbage included).
	b.ReportMetric(procStatusMB("VmRSS"), "rss-running-MB")
	debug.FreeOSMemory() // return the garbage of the setup and the runs: measure what stays
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
	b.ReportMetric(procStatusMB("VmRSS"), "rss-MB")
	b.ReportMetric(procStatusMB("RssAnon"), "rss-anon-MB")
	b.ReportMetric(procStatusMB("RssFile"), "rss-file-MB")
	if fi, err := os.Stat(e.store.Path()); err == nil {
		b.ReportMetric(float64(fi.Size())/(1<<20), "db-MB")
	}
}

// procStatusMB reads one memory line of /proc/self/status in MiB (-1 when
// it cannot): VmRSS is the resident set, RssAnon the heap and stacks,
// RssFile the mapped files (the bbolt file is memory-mapped: those pages
// are page cache).
func procStatusMB(field string) float64 {
	mb, err := procstat.MB(field)
	if err != nil {
		return -1
	}
	return mb
}

// BenchmarkJobSync measures one Job's full cycle through the controllers
// (create, pod start, pod end, completion) on a fake clock.
func BenchmarkJobSync(b *testing.B) {
	e, c := newBenchEngine(b)
	defer e.Close()
	b.ResetTimer()
	for i := range b.N {
		e.mu.Lock()
		bt := e.newBatch(c.Now())
		e.createJob(bt, testJob("j-"+strconv.Itoa(i), nil))
		err := e.commit(bt)
		e.mu.Unlock()
		if err != nil {
			b.Fatal(err)
		}
		e.step()
		e.step()
	}
}
