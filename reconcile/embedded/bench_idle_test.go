package embedded

import (
	"context"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
)

// cpuTime is the CPU time (user + system) this process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkIdle1kCronJobs runs the engine (Run, the real clock, the real
// executor) with 1,000 CronJobs spread over the day ("M H * * *") and
// measures the CPU it uses while idle: each iteration is 100 ms of wall time
// (use -benchtime=Nx to choose the window, e.g. 100x for 10 s). Metrics:
//   - idle-cpu-%: CPU-seconds per wall-second × 100 over the window (getrusage
//     of the whole process: an upper bound for the engine);
//   - resync-cpu-ms: the CPU of one safety re-sync of every object, which Run
//     does every SyncPeriod (5 min by default);
//   - engine-idle-cpu-%: idle-cpu-% plus the re-sync amortized over SyncPeriod.
func BenchmarkIdle1kCronJobs(b *testing.B) {
	const n = 1000
	dir := b.TempDir()
	o := DefaultOptions()
	o.StateDir, o.Runner = dir, newExecutor(b, dir)
	e, err := New(o)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	applyCronJobs(b, e, n, func(i int) *batchv1.CronJob {
		return testCronJob(fmt.Sprintf("cj-%04d", i), fmt.Sprintf("%d %d * * *", i%60, (i/60)%24), nil)
	})
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- e.Run(ctx) }()
	time.Sleep(time.Second) // Run's first full sync, and the setup's garbage
	runtime.GC()
	b.ResetTimer()
	cpu0, wall0 := cpuTime(b), time.Now()
	for range b.N {
		time.Sleep(100 * time.Millisecond)
	}
	cpu, wall := cpuTime(b)-cpu0, time.Since(wall0)
	b.StopTimer()
	cancel()
	if err := <-ran; err != nil {
		b.Fatal(err)
	}
	if err := e.LastError(); err != nil {
		b.Fatal(err)
	}
	const resyncs = 5
	r0 := cpuTime(b)
	for range resyncs {
		e.mu.Lock()
		e.enqueueAll()
		e.mu.Unlock()
		e.step()
	}
	resync := (cpuTime(b) - r0) / resyncs
	idle := 100 * cpu.Seconds() / wall.Seconds()
	b.ReportMetric(idle, "idle-cpu-%")
	b.ReportMetric(float64(resync.Microseconds())/1000, "resync-cpu-ms")
	b.ReportMetric(idle+100*resync.Seconds()/DefaultOptions().SyncPeriod.Seconds(), "engine-idle-cpu-%")
}
