package reconcile

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"time"

	"k8s.io/utils/clock"

	"github.com/jobsync/jobsync/gate"
	"github.com/jobsync/jobsync/manifests"
	"github.com/jobsync/jobsync/policy"
	"github.com/jobsync/jobsync/render"
)

// Snapshot is one revision of the source, checked out on disk.
type Snapshot struct {
	// Revision is "<ref>@sha1:<hash>" for Git, or a content hash for a directory.
	Revision string
	// Dir is the root of the checked-out tree.
	Dir string
}

// Source yields the current revision. cmd adapts package source to it.
type Source interface {
	Fetch(ctx context.Context) (Snapshot, error)
}

// SourceFunc adapts a function to Source.
type SourceFunc func(ctx context.Context) (Snapshot, error)

// Fetch calls f.
func (f SourceFunc) Fetch(ctx context.Context) (Snapshot, error) { return f(ctx) }

// ErrRejected is returned (wrapped) when a revision has validation errors: it
// is applied not at all and the last good revision stays live.
var ErrRejected = gate.ErrRejected

// ErrInventory is returned (wrapped) when the target's inventory cannot be
// read: the target is out of reach, nothing was judged against it.
var ErrInventory = errors.New("inventory")

// LoopOptions configures the reconcile loop.
type LoopOptions struct {
	// Sync names this sync; it labels every applied object.
	Sync string
	// Path is the directory inside the source tree to render ("" = root).
	Path string
	// Namespace is given to namespaced objects that have none.
	Namespace string
	// Interval between reconciles, and Jitter, the fraction of it added at random.
	Interval time.Duration
	Jitter   float64
	// Debounce spaces triggered reconciles: a trigger that comes sooner than
	// Debounce after the start of the previous reconcile waits until then,
	// and every trigger that arrives meanwhile joins it. A lone trigger runs
	// at once; a burst of pushes costs about one reconcile per Debounce.
	Debounce time.Duration
	// Policy is used when no .jobsync.yaml lies between Path and the tree's
	// root (gate.FindConfig); when nil, policy.DefaultConfig().
	Policy *policy.Config
	// Plan options (AllowEmpty).
	Plan PlanOptions
	// Render and Check options of the gate; nil means the packages' defaults
	// (Render.Root is always the tree's root).
	Render *render.Options
	Check  *manifests.Options
	// SkipUnchanged ends a reconcile of the interval after the fetch when
	// the revision is the one the last reconcile applied (and it succeeded):
	// for targets with no drift to correct (embedded). Triggered reconciles
	// (SIGHUP, jobsync reconcile, webhooks) always run in full. A skipped
	// tick is not an attempt: Status and report do not see it.
	SkipUnchanged bool
	// Clock drives ticks and timestamps.
	Clock clock.WithTicker
}

// DefaultLoopOptions returns a 1m interval with 10% jitter and a 1s
// debounce of triggers on the real clock.
func DefaultLoopOptions() LoopOptions {
	return LoopOptions{Sync: "default", Interval: time.Minute, Jitter: 0.1, Debounce: time.Second, Clock: clock.RealClock{}}
}

// Loop reconciles a source into a target, one revision at a time.
type Loop struct {
	src  Source
	tgt  Target
	opts LoopOptions

	mu     sync.Mutex
	status Status
}

// NewLoop returns a loop; call Run, or Once for a single reconcile.
func NewLoop(src Source, tgt Target, opts LoopOptions) *Loop {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if opts.Interval <= 0 {
		opts.Interval = time.Minute
	}
	return &Loop{src: src, tgt: tgt, opts: opts}
}

// Status returns a copy of the loop's status.
func (l *Loop) Status() Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.status.clone()
}

// Run reconciles at once, then on every tick and every trigger, until ctx ends.
// Each attempt's outcome is in Status; errors do not stop the loop. report, when
// not nil, is called after every attempt (the agent logs from it). An attempt
// under way when ctx ends runs to its end, so that no stage is left half
// applied, except a render, which ctx cancels (the attempt then fails and
// applies nothing); sources and targets bound their own waits.
func (l *Loop) Run(ctx context.Context, trigger <-chan struct{}, report func(Attempt)) {
	tick := false // the first reconcile runs in full
	for ctx.Err() == nil {
		started := l.onceReported(ctx, report, tick)
		t := l.opts.Clock.NewTimer(l.nextDelay())
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-trigger:
			t.Stop()
			tick = false
			if !l.debounce(ctx, started, trigger) {
				return
			}
		case <-t.C():
			tick = true
		}
	}
}

// onceReported runs one reconcile, reports it and returns when it started.
// The attempt itself (every rendered object) is not kept while the loop waits.
func (l *Loop) onceReported(ctx context.Context, report func(Attempt), tick bool) time.Time {
	a, recorded := l.attempt(detached(ctx), tick)
	if recorded && report != nil {
		report(a)
	}
	return a.Started
}

// renderCtxKey holds the loop's own context in a detached one (see detached).
type renderCtxKey struct{}

// detached is ctx without its cancellation, so that an attempt under way
// runs to its end, except its render: renderContext gets ctx back for it,
// and a render cancelled by SIGTERM ends the attempt before anything applies.
func detached(ctx context.Context) context.Context {
	return context.WithValue(context.WithoutCancel(ctx), renderCtxKey{}, ctx)
}

// renderContext is the context a render runs under (see detached).
func renderContext(ctx context.Context) context.Context {
	if live, ok := ctx.Value(renderCtxKey{}).(context.Context); ok {
		return live
	}
	return ctx
}

// debounce waits until Debounce has passed since started, absorbing the
// triggers that arrive meanwhile. It returns false when ctx ends first.
func (l *Loop) debounce(ctx context.Context, started time.Time, trigger <-chan struct{}) bool {
	wait := l.opts.Debounce - l.opts.Clock.Since(started)
	if wait <= 0 {
		return true
	}
	t := l.opts.Clock.NewTimer(wait)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-trigger:
		case <-t.C():
			return true
		}
	}
}

func (l *Loop) nextDelay() time.Duration {
	d := l.opts.Interval
	if l.opts.Jitter > 0 {
		d += time.Duration(rand.Float64() * l.opts.Jitter * float64(d))
	}
	return d
}

// Once runs one reconcile, top to bottom, and records it in Status.
func (l *Loop) Once(ctx context.Context) Attempt {
	a, _ := l.attempt(ctx, false)
	return a
}

// PlanOnce runs one reconcile up to the plan, and stops before the target
// applies anything: the attempt's ChangeSet is what Once would apply
// (Stage "planned" when it got there). It is not recorded in Status.
// jobsync diff dry-runs the plan with it.
func (l *Loop) PlanOnce(ctx context.Context) Attempt {
	a := Attempt{Started: l.opts.Clock.Now()}
	a.Err = l.once(ctx, &a, attemptMode{planOnly: true})
	a.Finished = l.opts.Clock.Now()
	return a
}

// attemptMode says how far one reconcile goes: a tick with SkipUnchanged
// stops after the fetch when the revision was applied; planOnly stops
// before the apply.
type attemptMode struct{ skipUnchanged, planOnly bool }

// errUnchanged ends a reconcile that SkipUnchanged skips.
var errUnchanged = errors.New("revision unchanged since the last reconcile")

// attempt runs one reconcile and records it, unless it is a tick that
// SkipUnchanged skipped (then false).
func (l *Loop) attempt(ctx context.Context, tick bool) (Attempt, bool) {
	a := Attempt{Started: l.opts.Clock.Now()}
	a.Err = l.once(ctx, &a, attemptMode{skipUnchanged: tick && l.opts.SkipUnchanged})
	a.Finished = l.opts.Clock.Now()
	if errors.Is(a.Err, errUnchanged) {
		return a, false
	}
	l.record(a)
	return a, true
}

func (l *Loop) once(ctx context.Context, a *Attempt, mode attemptMode) error {
	// 1. fetch the revision.
	fetchStart := l.opts.Clock.Now()
	snap, err := l.src.Fetch(ctx)
	a.FetchDuration = l.opts.Clock.Since(fetchStart)
	if err != nil {
		a.Stage = "fetch"
		return fmt.Errorf("fetch: %w", err)
	}
	a.Revision = snap.Revision
	// 2. stop here when nothing changed and nothing drifts (SkipUnchanged).
	if mode.skipUnchanged && l.appliedLast(snap.Revision) {
		a.Stage = "unchanged"
		return errUnchanged
	}
	// 3. the gate: render the path, check every object as the API server
	// would, apply the policies of the nearest .jobsync.yaml.
	a.Stage = "render"
	v, err := gate.Run(renderContext(ctx), []string{filepath.Join(snap.Dir, l.opts.Path)}, l.gateOptions(snap.Dir))
	if err != nil {
		if _, ok := errors.AsType[*gate.ConfigError](err); ok {
			a.Stage = "validate"
			return err
		}
		return fmt.Errorf("render %s: %w", displayPath(l.opts.Path), err)
	}
	a.Stage = "validate"
	a.Findings = withFindings(v.Results)
	// 4. a revision with any error is applied not at all.
	if err := v.Err(); err != nil {
		return fmt.Errorf("%w; the last good revision stays live", err)
	}
	results := v.Results
	// 5. label the desired objects for this sync.
	a.Stage = "plan"
	desired, err := TakeDesired(results, l.opts.Sync, snap.Revision, l.opts.Namespace)
	if err != nil {
		return err
	}
	// 6. read the target's inventory and plan against it.
	inv, err := l.tgt.Inventory(ctx)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInventory, err)
	}
	cs, err := Plan(snap.Revision, desired, inv, l.opts.Plan)
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	a.ChangeSet = cs
	if mode.planOnly {
		a.Stage = "planned"
		return nil
	}
	// 7. apply (the target prunes last and records its new inventory).
	a.Stage = "apply"
	res, err := l.tgt.Apply(ctx, cs)
	a.Result = res
	if err != nil {
		return fmt.Errorf("apply to %s: %w", l.tgt.Name(), err)
	}
	a.Stage = "done"
	return nil
}

// appliedLast reports whether the last attempt applied revision in full:
// no change the target deferred (a Job to recreate once its run ends) or
// failed, which a later reconcile of the same revision must finish.
func (l *Loop) appliedLast(revision string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	last := l.status.LastAttempt
	if last == nil || !last.OK() || last.Stage != "done" || last.Revision != revision {
		return false
	}
	for _, o := range last.Result.Outcomes {
		if !o.Done || o.Err != "" {
			return false
		}
	}
	return true
}

// gateOptions are the loop's gate options for a tree checked out at root:
// the tree is the root (kustomize loads nothing outside it), and the
// decoded objects are kept to be applied.
func (l *Loop) gateOptions(root string) gate.Options {
	o := gate.DefaultOptions()
	if l.opts.Render != nil {
		o.Render = *l.opts.Render
	}
	if l.opts.Check != nil {
		o.Check = *l.opts.Check
	}
	o.Render.Root = root
	o.Policy = l.opts.Policy
	o.Now = l.opts.Clock.Now()
	o.KeepObjects = true
	return o
}

func withFindings(results []manifests.Result) []manifests.Result {
	var out []manifests.Result
	for _, r := range results {
		if len(r.Errors)+len(r.Warnings) > 0 {
			r.Object, r.Unstructured = nil, nil
			out = append(out, r) // its line index is gone (checkOptions: DropLines)
		}
	}
	return out
}

func displayPath(p string) string {
	if p == "" {
		return "."
	}
	return p
}
