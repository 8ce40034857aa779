package embedded

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"k8s.io/utils/clock"

	"github.com/jobsync/jobsync/reconcile/embedded/podexec"
	"github.com/jobsync/jobsync/schedule"
)

// Options configures an Engine.
type Options struct {
	// StateDir holds the state file (and is where the executor is expected
	// to keep its logs). Required.
	StateDir string
	// Clock drives every controller decision and every wait.
	Clock clock.WithTicker
	// Runner runs pods as local processes. Required unless ReadOnly.
	Runner podexec.Runner
	// SyncPeriod re-syncs every object this often as a safety net (0: never).
	SyncPeriod time.Duration
	// RestartPollInterval is how often the restart counts of running
	// restartPolicy OnFailure pods are read (they count towards backoffLimit).
	RestartPollInterval time.Duration
	// RetryDelay is how long a sync waits before retrying after the store
	// failed to commit.
	RetryDelay time.Duration
	// MaxBatch bounds the syncs committed in one store transaction.
	MaxBatch int
	// EventsPerObject is the size of each object's event ring.
	EventsPerObject int
	// LockTimeout bounds the wait for the state file's lock (ErrLocked after it).
	LockTimeout time.Duration
	// ShutdownTimeout bounds how long Close waits for killed pods to end.
	ShutdownTimeout time.Duration
	// ReadOnly opens the store for queries only: no Run, no commands, no
	// restart recovery (the CLI reading a stopped agent's state).
	ReadOnly bool
	// LogPath, when set, names the log file of one container of a pod (the
	// executor's layout); LogPaths reports it.
	LogPath func(namespace, pod, container string) string
	// Observer, when set, is told of scheduled and finished runs (metrics).
	Observer Observer
}

// DefaultOptions returns the real clock, a 5 m safety re-sync, a 10 s poll of
// OnFailure restart counts, 1000 syncs per transaction, 20 events per object,
// a 1 s lock timeout and a 40 s shutdown. StateDir and Runner must be set.
func DefaultOptions() Options {
	return Options{
		Clock: clock.RealClock{}, SyncPeriod: 5 * time.Minute, RestartPollInterval: 10 * time.Second,
		RetryDelay: 10 * time.Second, MaxBatch: 1000, EventsPerObject: 20, LockTimeout: time.Second,
		ShutdownTimeout: 40 * time.Second,
	}
}

// Engine is the embedded target's controller loop: the CronJob controller,
// the Job controller, TTL and history cleanup, over a Store, running pods
// through a podexec.Runner.
type Engine struct {
	opts  Options
	clock clock.WithTicker
	store *Store

	// mu guards everything below it: the cache, the queue and the handles.
	mu      sync.Mutex
	cache   *cache
	queue   *queue
	handles map[string]podexec.Handle
	// noProcess lists pods killed or failed to start without a process: the
	// next step marks them Failed with the reason.
	noProcess map[string]podEnd
	scheds    map[string]cron.Schedule
	lastErr   error
	// onCommit, when set (benchmarks), sees every committed batch.
	onCommit func(b *batch)

	runCtx    context.Context
	cancelRun context.CancelFunc
	wake      chan struct{}
}

type podEnd struct{ reason, message string }

// New opens the store in opts.StateDir, loads it, and (unless ReadOnly)
// recovers from a previous run: pods the store shows as Pending or Running
// have no process any more and are marked Failed with reason AgentRestart,
// to be retried per their Job's backoffLimit.
func New(opts Options) (*Engine, error) {
	opts = withDefaults(opts)
	if opts.Runner == nil && !opts.ReadOnly {
		return nil, errors.New("embedded: Options.Runner is nil: give the engine a pod executor")
	}
	st, err := OpenStore(opts.StateDir, StoreOptions{ReadOnly: opts.ReadOnly, LockTimeout: opts.LockTimeout, EventsPerObject: opts.EventsPerObject})
	if err != nil {
		return nil, fmt.Errorf("embedded: %w", err)
	}
	c, err := loadCache(st)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("embedded: load %s: %w", st.Path(), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Engine{
		opts: opts, clock: opts.Clock, store: st, cache: c, queue: newQueue(),
		handles: map[string]podexec.Handle{}, noProcess: map[string]podEnd{}, scheds: map[string]cron.Schedule{},
		runCtx: ctx, cancelRun: cancel, wake: make(chan struct{}, 1),
	}
	if !opts.ReadOnly {
		if err := e.recover(); err != nil {
			cancel()
			st.Close()
			return nil, fmt.Errorf("embedded: recover: %w", err)
		}
	}
	return e, nil
}

func withDefaults(o Options) Options {
	d := DefaultOptions()
	if o.Clock == nil {
		o.Clock = d.Clock
	}
	if o.RestartPollInterval <= 0 {
		o.RestartPollInterval = d.RestartPollInterval
	}
	if o.RetryDelay <= 0 {
		o.RetryDelay = d.RetryDelay
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = d.MaxBatch
	}
	if o.EventsPerObject <= 0 {
		o.EventsPerObject = d.EventsPerObject
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = d.LockTimeout
	}
	if o.ShutdownTimeout <= 0 {
		o.ShutdownTimeout = d.ShutdownTimeout
	}
	return o
}

// Store returns the engine's store (for inspection; writes go through the engine).
func (e *Engine) Store() *Store { return e.store }

// LastError returns the last error a sync or commit hit, or nil.
func (e *Engine) LastError() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lastErr
}

// Run syncs every object, then runs the controllers until ctx ends: it wakes
// at the next due time (a schedule, a backoff expiry, a deadline, a TTL) or
// when a pod ends or a command or apply changes something, never polling.
func (e *Engine) Run(ctx context.Context) error {
	if e.opts.ReadOnly {
		return errors.New("embedded: the engine is read-only: open it without ReadOnly to run it")
	}
	e.mu.Lock()
	e.enqueueAll()
	e.mu.Unlock()
	var resync <-chan time.Time
	if e.opts.SyncPeriod > 0 {
		t := e.clock.NewTicker(e.opts.SyncPeriod)
		defer t.Stop()
		resync = t.C()
	}
	for {
		e.step()
		e.mu.Lock()
		next, ok := e.queue.peek()
		e.mu.Unlock()
		var timer clock.Timer
		var due <-chan time.Time
		if ok {
			timer = e.clock.NewTimer(next.Sub(e.clock.Now()))
			due = timer.C()
		}
		select {
		case <-ctx.Done():
			if timer != nil {
				timer.Stop()
			}
			return nil
		case <-due:
		case <-e.wake:
		case <-resync:
			e.mu.Lock()
			e.enqueueAll()
			e.mu.Unlock()
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// poke wakes Run.
func (e *Engine) poke() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// enqueueAll makes every CronJob and Job due now. Callers hold mu.
func (e *Engine) enqueueAll() {
	now := e.clock.Now()
	for k := range e.cache.cronJobs {
		e.queue.add(cronJobQueueKey(k), now)
	}
	for k := range e.cache.jobs {
		e.queue.add(jobQueueKey(k), now)
	}
}

func cronJobQueueKey(key string) string { return "c/" + key }
func jobQueueKey(key string) string     { return "j/" + key }

// step processes ended pods and every due sync, in batches of MaxBatch per
// store transaction, until nothing is due. It records errors in LastError.
func (e *Engine) step() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for {
		now := e.clock.Now()
		b := e.newBatch(now)
		ended := e.collectEnded(b)
		keys := e.queue.pop(now, max(1, e.opts.MaxBatch-ended))
		if ended == 0 && len(keys) == 0 {
			return
		}
		for _, k := range keys {
			e.syncKey(b, k)
		}
		if err := e.commit(b); err != nil {
			e.lastErr = err
			for _, k := range keys {
				e.queue.add(k, now.Add(e.opts.RetryDelay))
			}
			return
		}
	}
}

// syncKey runs the controller of one queue key and requeues it when asked.
func (e *Engine) syncKey(b *batch, qk string) {
	var at time.Time
	var ok bool
	switch {
	case strings.HasPrefix(qk, "c/"):
		at, ok = e.syncCronJob(b, qk[2:])
	case strings.HasPrefix(qk, "j/"):
		at, ok = e.syncJob(b, qk[2:])
	}
	if ok {
		e.queue.add(qk, at)
	}
}

// schedule returns the parsed schedule (cached by its text).
func (e *Engine) schedule(spec string) (cron.Schedule, error) {
	if s, ok := e.scheds[spec]; ok {
		return s, nil
	}
	s, err := schedule.ParseCron(spec)
	if err != nil {
		return nil, err
	}
	e.scheds[strings.Clone(spec)] = s // not a slice of the CronJob's document
	return s, nil
}

// Close kills the pods still running (reason AgentShutdown), waits up to
// ShutdownTimeout for them to end, records their status and closes the store.
// Call it after Run has returned.
func (e *Engine) Close() error {
	e.mu.Lock()
	hs := make([]podexec.Handle, 0, len(e.handles))
	for _, h := range e.handles {
		hs = append(hs, h)
		h.Kill("AgentShutdown")
	}
	e.mu.Unlock()
	deadline := e.clock.NewTimer(e.opts.ShutdownTimeout)
	defer deadline.Stop()
wait:
	for _, h := range hs {
		select {
		case <-h.Done():
		case <-deadline.C():
			break wait
		}
	}
	var err error
	if !e.opts.ReadOnly {
		e.mu.Lock()
		b := e.newBatch(e.clock.Now())
		e.collectEnded(b)
		err = e.commit(b)
		e.mu.Unlock()
	}
	e.cancelRun()
	return errors.Join(err, e.store.Close())
}
