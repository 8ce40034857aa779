package embedded

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	clocktesting "k8s.io/utils/clock/testing"

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

// BenchmarkCronJobs10k keeps 10,000 every-minute CronJobs in the store and,
// per iteration, moves the clock to the next minute (plus the controller's
// 100 ms requeue padding) and runs the controllers. It reports the p99 delay
// from the scheduled time to the commit of the Job (padding included), and
// the memory with 10k CronJobs and their history (up to 3 succeeded and 1
// failed Job each, with pods) loaded.
func BenchmarkCronJobs10k(b *testing.B) {
	const n = 10000
	c := clocktesting.NewFakeClock(t0)
	o := DefaultOptions()
	o.StateDir, o.Clock, o.Runner, o.SyncPeriod = b.TempDir(), c, instantRunner{c}, 0
	e, err := New(o)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	cs := reconcile.ChangeSet{Revision: "bench"}
	for i := range n {
		cj := testCronJob(fmt.Sprintf("cj-%05d", i), "* * * * *", nil)
		d := desiredOf(b, cj)
		cs.Changes = append(cs.Changes, reconcile.Change{Ref: d.Ref, Action: reconcile.ActionCreate, Desired: d})
	}
	if _, err := e.Target().Apply(context.Background(), cs); err != nil {
		b.Fatal(err)
	}
	e.step()
	var delays []time.Duration
	created := map[string]bool{}
	var start, slot time.Time
	e.onCommit = func(bt *batch) {
		for d := range bt.dirty {
			if d.kind == KindJob && !created[d.key] && e.cache.jobs[d.key] != nil && e.cache.jobs[d.key].CreationTimestamp.Time.Equal(slot) {
				created[d.key] = true
				delays = append(delays, nextScheduleDelta+time.Since(start))
			}
		}
	}
	b.ResetTimer()
	for i := range b.N {
		slot = t0.Add(time.Duration(i+1) * time.Minute)
		c.SetTime(slot.Add(nextScheduleDelta))
		start = time.Now()
		e.mu.Lock()
		e.enqueueAll()
		e.mu.Unlock()
		e.step()
		if err := e.LastError(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if want := n * b.N; len(delays) < want {
		b.Fatalf("%d Jobs created, want %d", len(delays), want)
	}
	slices.Sort(delays)
	b.ReportMetric(float64(delays[len(delays)*99/100].Milliseconds()), "p99-delay-ms")
	b.ReportMetric(float64(delays[len(delays)/2].Milliseconds()), "p50-delay-ms")
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

// procStatusMB reads one memory line of /proc/self/status (Linux): VmRSS is
// the resident set, RssAnon the heap and stacks, RssFile the mapped files
// (the bbolt file is memory-mapped: those pages are page cache).
func procStatusMB(field string) float64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return float64(kb) / 1024
		}
	}
	return -1
}

// BenchmarkJobSync measures one Job's full cycle through the controllers
// (create, pod start, pod end, completion) on a fake clock.
func BenchmarkJobSync(b *testing.B) {
	c := clocktesting.NewFakeClock(t0)
	o := DefaultOptions()
	o.StateDir, o.Clock, o.Runner, o.SyncPeriod = b.TempDir(), c, instantRunner{c}, 0
	e, err := New(o)
	if err != nil {
		b.Fatal(err)
	}
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
