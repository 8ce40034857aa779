package agent

import (
	"context"
	"errors"
	"log/slog"

	"github.com/jobsync/jobsync/fleet"
	"github.com/jobsync/jobsync/ledger"
)

// RunRecorder writes runs into the ledger off the caller's goroutine: the
// embedded controllers and the cluster informer tell it of runs with their
// locks held, and a ledger write waits for the disk. Its methods never
// block; when the queue is full a run is dropped and logged.
type RunRecorder struct {
	l       *ledger.Ledger
	metrics *FleetMetrics
	log     *slog.Logger
	ops     chan runOp
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
	return &RunRecorder{l: l, metrics: metrics, log: log, ops: make(chan runOp, 4096)}
}

// Started queues a run that started.
func (r *RunRecorder) Started(run fleet.Run) { r.push(runOp{run: run}) }

// Finished queues the end of a run (run.End, Result and Reason set; with
// Start set too, a run the ledger never saw start is recorded whole).
func (r *RunRecorder) Finished(run fleet.Run) { r.push(runOp{run: run, finished: true}) }

func (r *RunRecorder) push(op runOp) {
	select {
	case r.ops <- op:
	default:
		r.log.Error("run ledger queue full: run not recorded", "cronjob", op.run.Namespace+"/"+op.run.CronJob, "job", op.run.Job)
	}
}

// Run writes queued runs until ctx ends, then the ones still queued.
func (r *RunRecorder) Run(ctx context.Context) {
	for {
		select {
		case op := <-r.ops:
			r.write(op)
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
			return
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
	if len(starts) > 0 {
		if err := r.l.Record(starts...); err != nil {
			r.log.Error("run ledger: runs not recorded", "runs", len(starts), "err", err)
		}
		for _, s := range starts {
			r.metrics.started(s)
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

func (r *RunRecorder) finish(x fleet.Run) {
	err := r.l.RunFinished(x.Namespace, x.CronJob, x.Job, x.End, x.Result, x.Reason)
	if errors.Is(err, ledger.ErrUnknownRun) && !x.Start.IsZero() {
		err = r.l.Record(x) // its start was never seen (it began before the ledger existed)
	}
	if err != nil {
		r.log.Error("run ledger: end of run not recorded", "cronjob", x.Namespace+"/"+x.CronJob, "job", x.Job, "err", err)
		return
	}
	for _, run := range r.l.Runs(x.Namespace, x.CronJob, ledger.RecentRuns) {
		if run.Job == x.Job {
			r.metrics.finished(run)
			return
		}
	}
}
