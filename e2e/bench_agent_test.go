package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/jobsync/jobsync/agent"
	"github.com/jobsync/jobsync/internal/gittest"
	"github.com/jobsync/jobsync/reconcile"
)

// Sizes of the agent benchmarks (issue 6 targets).
const (
	benchChangeObjects = 50
	benchRSSConfigMaps = 4500
	benchRSSCronJobs   = 500
)

// BenchmarkAgentCommitToApplied: a commit that changes 50 CronJobs is pushed,
// the agent (a real process, cluster target) is told by a signed webhook,
// and the clock runs from the webhook until /status reports the commit
// applied (target ≤ 2 s p50). Every iteration is one commit; run with
// -benchtime=20x for a meaningful p50.
func BenchmarkAgentCommitToApplied(b *testing.B) {
	ctx := context.Background()
	ns := newNamespace(b, ctx, "bench-webhook")
	base, repo := newFaultRepo(b)
	first := repo.Commit("first", cronJobs(benchChangeObjects, "1.0"))
	srv := gittest.StartHTTP(b, base, gittest.HTTPOptions{})
	a := startAgent(b, agentConfig{repo: srv.URL("app.git"), ns: ns, interval: time.Hour, webhookSecret: []byte("bench-secret")})
	a.waitApplied(time.Minute, revisionOf(first))
	var samples []time.Duration
	i := 0
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		i++
		commit := repo.Commit(fmt.Sprintf("change %d", i), cronJobs(benchChangeObjects, fmt.Sprintf("1.%d", i)))
		b.StartTimer()
		start := time.Now()
		if code, err := a.webhook(fmt.Appendf(nil, `{"after":%q}`, commit)); err != nil || code != http.StatusAccepted {
			b.Fatalf("webhook: %d, %v", code, err)
		}
		// Every 10 ms: pollUntil's 100 ms would dominate the figure.
		st := a.waitAppliedEvery(10*time.Millisecond, time.Minute, revisionOf(commit))
		samples = append(samples, time.Since(start))
		if n := countActions(st.LastApplied.Objects, reconcile.ActionUpdate); n != benchChangeObjects {
			b.Fatalf("the commit updated %d objects, want %d", n, benchChangeObjects)
		}
	}
	b.StopTimer()
	slices.Sort(samples)
	b.ReportMetric(ms(samples[len(samples)/2]), "p50-ms")
	b.ReportMetric(ms(samples[len(samples)*9/10]), "p90-ms")
}

// BenchmarkAgentRSS: the agent process manages 5,000 objects (4,500
// ConfigMaps, 500 CronJobs): peak RSS (VmHWM) over the first apply and a
// no-change reconcile, and RSS after them (target ≤ 200 MB).
func BenchmarkAgentRSS(b *testing.B) {
	ctx := context.Background()
	base, repo := newFaultRepo(b)
	commit := repo.Commit("big", mergeFiles(configMaps(benchRSSConfigMaps, "v1"), cronJobs(benchRSSCronJobs, "1.0")))
	srv := gittest.StartHTTP(b, base, gittest.HTTPOptions{})
	var peak, rss int64
	for b.Loop() {
		ns := newNamespace(b, ctx, "bench-rss")
		a := startAgent(b, agentConfig{repo: srv.URL("app.git"), ns: ns, interval: time.Hour})
		st := a.waitApplied(10*time.Minute, revisionOf(commit))
		if n := len(st.LastApplied.Objects); n != benchRSSConfigMaps+benchRSSCronJobs {
			b.Fatalf("%d objects applied, want %d", n, benchRSSConfigMaps+benchRSSCronJobs)
		}
		reconcileAgain(b, a)
		hwm, now, err := a.memory()
		if err != nil {
			b.Fatal(err)
		}
		peak, rss = max(peak, hwm), max(rss, now)
		a.kill()
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MB")
	b.ReportMetric(float64(rss)/(1<<20), "RSS-MB")
}

func countActions(objs []agent.ObjectReport, action reconcile.Action) int {
	n := 0
	for _, o := range objs {
		if o.Action == action {
			n++
		}
	}
	return n
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
