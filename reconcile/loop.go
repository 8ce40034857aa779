package reconcile

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"k8s.io/utils/clock"

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
var ErrRejected = errors.New("revision rejected")

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
	// Policy is used when the tree has no .jobsync.yaml at its root; when nil,
	// policy.DefaultConfig().
	Policy *policy.Config
	// Plan options (AllowEmpty).
	Plan PlanOptions
	// Render and Check options; zero values mean the packages' defaults.
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

// errUnchanged ends a reconcile that SkipUnchanged skips.
var errUnchanged = errors.New("revision unchanged since the last reconcile")

// attempt runs one reconcile and records it, unless it is a tick that
// SkipUnchanged skipped (then false).
func (l *Loop) attempt(ctx context.Context, tick bool) (Attempt, bool) {
	a := Attempt{Started: l.opts.Clock.Now()}
	a.Err = l.once(ctx, &a, tick && l.opts.SkipUnchanged)
	a.Finished = l.opts.Clock.Now()
	if errors.Is(a.Err, errUnchanged) {
		return a, false
	}
	l.record(a)
	return a, true
}

func (l *Loop) once(ctx context.Context, a *Attempt, skipUnchanged bool) error {
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
	if skipUnchanged && l.appliedLast(snap.Revision) {
		a.Stage = "unchanged"
		return errUnchanged
	}
	// 3. render the path into documents with their origins.
	a.Stage = "render"
	root := filepath.Join(snap.Dir, l.opts.Path)
	docs, err := render.RenderContext(renderContext(ctx), []string{root}, l.renderOptions(snap.Dir))
	if err != nil { // a render cancelled by the loop's context applies nothing
		return fmt.Errorf("render %s: %w", displayPath(l.opts.Path), err)
	}
	// 4. read the batch policies of the tree's .jobsync.yaml.
	a.Stage = "validate"
	cfg, err := l.policyConfig(snap.Dir)
	if err != nil {
		return fmt.Errorf("policy config: %w", err)
	}
	// 5. decode, default and validate every object, and apply the policies.
	results := manifests.Check(toInputs(docs), l.checkOptions(cfg))
	a.Findings = withFindings(results)
	// 6. gate: a revision with any error is applied not at all.
	if n := countInvalid(results); n > 0 {
		return fmt.Errorf("%w: %d object(s) with errors; the last good revision stays live", ErrRejected, n)
	}
	// 7. label the desired objects for this sync.
	a.Stage = "plan"
	desired, err := TakeDesired(results, l.opts.Sync, snap.Revision, l.opts.Namespace)
	if err != nil {
		return err
	}
	// 8. read the target's inventory and plan against it.
	inv, err := l.tgt.Inventory(ctx)
	if err != nil {
		return fmt.Errorf("inventory: %w", err)
	}
	cs, err := Plan(snap.Revision, desired, inv, l.opts.Plan)
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	a.ChangeSet = cs
	// 9. apply (the target prunes last and records its new inventory).
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

func (l *Loop) renderOptions(root string) render.Options {
	o := render.DefaultOptions()
	if l.opts.Render != nil {
		o = *l.opts.Render
	}
	o.Root = root
	return o
}

// checkOptions applies the policies to each object as soon as it is
// checked, then drops its typed form (the targets apply the decoded
// document) and its line index (its findings keep their lines): with
// 10,000 objects, all of them at once would double a reconcile's memory.
func (l *Loop) checkOptions(cfg policy.Config) manifests.Options {
	o := manifests.DefaultOptions()
	if l.opts.Check != nil {
		o = *l.opts.Check
	}
	now, each := l.opts.Clock.Now(), o.Each
	o.Each = func(r *manifests.Result) {
		if each != nil {
			each(r)
		}
		policy.ApplyTo(r, cfg, now)
		r.Object = nil
	}
	o.DropLines = true
	return o
}

// policyConfig reads .jobsync.yaml at the tree's root, else the configured one.
func (l *Loop) policyConfig(root string) (policy.Config, error) {
	p := filepath.Join(root, ".jobsync.yaml")
	if _, err := os.Stat(p); err == nil {
		return policy.LoadConfig(p)
	}
	if l.opts.Policy != nil {
		return *l.opts.Policy, nil
	}
	return policy.DefaultConfig(), nil
}

// toInputs turns rendered documents into manifests inputs.
func toInputs(docs []render.Document) []manifests.Input {
	in := make([]manifests.Input, len(docs))
	for i, d := range docs {
		in[i] = manifests.Input{File: d.Origin.File, Line: d.Origin.Line, Data: d.Data, Err: d.Err}
	}
	return in
}

func countInvalid(results []manifests.Result) int {
	n := 0
	for i := range results {
		if !results[i].Valid() {
			n++
		}
	}
	return n
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
