package agent

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jobsync/jobsync/fleet"
	"github.com/jobsync/jobsync/ledger"
)

// maxPendingEnds bounds the ends of runs kept aside while the queue is full.
const maxPendingEnds = 1 << 16

// RunRecorder writes runs into the ledger off the caller's goroutine: the
// embedded controllers and the cluster informer tell it of runs with their
// locks held, and a ledger write waits for the disk. Its methods never
// block. When the queue is full a start is dropped (its end, which carries
// the start, records the run whole), and an end is kept aside, coalesced by
// Job, up to maxPendingEnds; every drop is logged and counted in
// jobsync_run_ledger_dropped_total (Collector). A run told again (informer
// resyncs, agent restarts) is written and counted in the metrics once.
type RunRecorder struct {
	l       *ledger.Ledger
	metrics *FleetMetrics
	log     *slog.Logger
	ops     chan runOp
	dropped *prometheus.CounterVec

	mu      sync.Mutex
	pending map[string]fleet.Run // ends that found the queue full
}

type runOp struct {
	run      fleet.Run
	finished bool
}

// NewRunRecorder returns a recorder into l; metrics (may be nil) counts runs.
func NewRunRecorder(l *ledger.Ledger, metrics *FleetMetrics, log *slog.Logger) *RunRecorder {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &RunRecorder{l: l, metrics: metrics, log: log, ops: make(chan runOp, 4096), pending: map[string]fleet.Run{},
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jobsync_run_ledger_dropped_total",
			Help: "Run starts (op=started) and ends (op=finished) not written to the run ledger because its queue was full."}, []string{"op"})}
}

// Collector returns the recorder's drop counter, to register.
func (r *RunRecorder) Collector() prometheus.Collector { return r.dropped }

// Started queues a run that started.
func (r *RunRecorder) Started(run fleet.Run) { r.push(runOp{run: run}) }

// Finished queues the end of a run (run.End, Result and Reason set; with
// Start set too, a run the ledger never saw start is recorded whole).
func (r *RunRecorder) Finished(run fleet.Run) { r.push(runOp{run: run, finished: true}) }

func (r *RunRecorder) push(op runOp) {
	select {
	case r.ops <- op:
		return
	default:
	}
	if op.finished {
		r.mu.Lock()
		key := op.run.Namespace + "/" + op.run.CronJob + "/" + op.run.Job
		_, known := r.pending[key]
		if known || len(r.pending) < maxPendingEnds {
			r.pending[key] = op.run
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
	}
	name := map[bool]string{false: "started", true: "finished"}[op.finished]
	r.dropped.WithLabelValues(name).Inc()
	r.log.Error("run ledger queue full: run not recorded", "op", name, "cronjob", op.run.Namespace+"/"+op.run.CronJob, "job", op.run.Job)
}

// drainPending writes the ends kept aside while the queue was full.
func (r *RunRecorder) drainPending() {
	r.mu.Lock()
	ends := r.pending
	if len(ends) > 0 {
		r.pending = map[string]fleet.Run{}
	}
	r.mu.Unlock()
	for _, run := range ends {
		r.finish(run)
	}
}

// Run writes queued runs until ctx ends, then the ones still queued.
func (r *RunRecorder) Run(ctx context.Context) {
	for {
		select {
		case op := <-r.ops:
			r.write(op)
			if len(r.ops) == 0 {
				r.drainPending()
			}
		case <-ctx.Done():
			r.Flush()
			return
		}
	}
}

// Flush writes every queued run now.
func (r *RunRecorder) Flush() {
	for {
		select {
		case op := <-r.ops:
			r.write(op)
		default:
			r.drainPending()
			if len(r.ops) == 0 {
				return
			}
		}
	}
}

// write records one run, batching the starts queued behind it (a midnight
// of daily CronJobs is one transaction, not thousands).
func (r *RunRecorder) write(op runOp) {
	var starts []fleet.Run
	for !op.finished {
		starts = append(starts, op.run)
		next, ok := r.next()
		if !ok {
			break
		}
		op = next
	}
	if starts = r.unknown(starts); len(starts) > 0 {
		if err := r.l.Record(starts...); err != nil {
			r.log.Error("run ledger: runs not recorded", "runs", len(starts), "err", err)
		} else {
			for _, s := range starts {
				r.metrics.started(s)
			}
		}
	}
	if op.finished {
		r.finish(op.run)
	}
}

func (r *RunRecorder) next() (runOp, bool) {
	select {
	case op := <-r.ops:
		return op, true
	default:
		return runOp{}, false
	}
}

// unknown keeps the starts of runs the ledger does not have yet (Record
// reports no such thing: ledger.Record skips them without a word).
func (r *RunRecorder) unknown(starts []fleet.Run) []fleet.Run {
	out := starts[:0]
	for _, s := range starts {
		if _, ok := r.lookup(s); !ok {
			out = append(out, s)
		}
	}
	return out
}

// lookup finds a Job's run among its CronJob's recent runs in the ledger.
func (r *RunRecorder) lookup(x fleet.Run) (fleet.Run, bool) {
	for _, run := range r.l.Runs(x.Namespace, x.CronJob, ledger.RecentRuns) {
		if run.Job == x.Job {
			return run, true
		}
	}
	return fleet.Run{}, false
}

// finish records the end of a run and counts it, unless the ledger had it
// ended already (ledger.RunFinished is then a no-op that returns nil).
func (r *RunRecorder) finish(x fleet.Run) {
	if old, ok := r.lookup(x); ok && old.Result != fleet.ResultRunning {
		return
	}
	err := r.l.RunFinished(x.Namespace, x.CronJob, x.Job, x.End, x.Result, x.Reason)
	if errors.Is(err, ledger.ErrUnknownRun) && !x.Start.IsZero() {
		err = r.l.Record(x) // its start was never seen (it began before the ledger existed)
	}
	if err != nil {
		r.log.Error("run ledger: end of run not recorded", "cronjob", x.Namespace+"/"+x.CronJob, "job", x.Job, "err", err)
		return
	}
	if run, ok := r.lookup(x); ok {
		r.metrics.finished(run)
	}
}
