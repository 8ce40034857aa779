package reconcile

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/jobsync/jobsync/manifests"
)

// memTarget is an in-memory Target for the loop's pure logic: it keeps the
// inventory as a real target would.
type memTarget struct {
	inv     Inventory
	applied []ChangeSet
	fail    error
	// deferAll leaves every change not done (as a running Job to recreate).
	deferAll bool
}

func (m *memTarget) Name() string { return "memory" }
func (m *memTarget) Inventory(context.Context) (Inventory, error) {
	out := Inventory{}
	for k, v := range m.inv {
		out[k] = v
	}
	return out, nil
}
func (m *memTarget) Apply(_ context.Context, cs ChangeSet) (ApplyResult, error) {
	if m.fail != nil {
		return ApplyResult{}, m.fail
	}
	m.applied = append(m.applied, cs)
	var res ApplyResult
	for _, c := range cs.Changes {
		switch c.Action {
		case ActionPrune, ActionOrphan:
			delete(m.inv, c.Ref.Key())
		default:
			m.inv[c.Ref.Key()] = InventoryEntry{Ref: c.Ref, Hash: c.Desired.Hash, Revision: cs.Revision}
		}
		res.Outcomes = append(res.Outcomes, Outcome{Change: c, Done: !m.deferAll})
	}
	return res, nil
}

const goodCronJob = `apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: "0 3 * * *"
  timeZone: Europe/Berlin
  concurrencyPolicy: Forbid
  startingDeadlineSeconds: 300
  successfulJobsHistoryLimit: 3
  failedJobsHistoryLimit: 1
  jobTemplate:
    spec:
      activeDeadlineSeconds: 600
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: main
              image: busybox:1.36
              command: ["sh", "-c", "echo hi"]
              resources:
                requests: {cpu: 10m, memory: 16Mi}
                limits: {cpu: 100m, memory: 64Mi}
`

// repo is a directory whose content and revision the test changes.
type repo struct {
	dir, rev string
	err      error
}

func (r *repo) Fetch(context.Context) (Snapshot, error) {
	return Snapshot{Revision: r.rev, Dir: r.dir}, r.err
}

func (r *repo) write(t *testing.T, rev string, files map[string]string) {
	t.Helper()
	entries, _ := os.ReadDir(r.dir)
	for _, e := range entries {
		os.RemoveAll(filepath.Join(r.dir, e.Name()))
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(r.dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r.rev = rev
}

func TestLoopGatesAndPrunes(t *testing.T) {
	r := &repo{dir: t.TempDir()}
	tgt := &memTarget{inv: Inventory{}}
	opts := DefaultLoopOptions()
	opts.Clock = clocktesting.NewFakeClock(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))
	loop := NewLoop(r, tgt, opts)
	ctx := context.Background()

	// 1. a good revision is applied.
	r.write(t, "main@sha1:1", map[string]string{"cj.yaml": goodCronJob})
	if a := loop.Once(ctx); a.Err != nil || a.Stage != "done" || a.ChangeSet.Count(ActionCreate) != 1 {
		t.Fatalf("first: err=%v stage=%s changes=%+v", a.Err, a.Stage, a.ChangeSet.Changes)
	}
	// 2. a revision with an invalid object is rejected as a whole: nothing applied.
	bad := strings.Replace(goodCronJob, "Forbid", "forbid", 1)
	r.write(t, "main@sha1:2", map[string]string{"cj.yaml": bad, "other.yaml": strings.Replace(goodCronJob, "nightly", "other", 1)})
	a := loop.Once(ctx)
	if !errors.Is(a.Err, ErrRejected) || a.Stage != "validate" || len(a.Findings) == 0 {
		t.Fatalf("bad revision: err=%v stage=%s findings=%d", a.Err, a.Stage, len(a.Findings))
	}
	if len(tgt.applied) != 1 {
		t.Fatalf("a rejected revision reached the target: %d applies", len(tgt.applied))
	}
	st := loop.Status()
	if st.LastApplied == nil || st.LastApplied.Revision != "main@sha1:1" || st.Failures != 1 {
		t.Fatalf("status after rejection: %+v", st)
	}
	// 3. an empty render is refused (nothing pruned) unless allowed.
	r.write(t, "main@sha1:3", map[string]string{})
	if a := loop.Once(ctx); !errors.Is(a.Err, ErrEmptyRender) {
		t.Fatalf("empty render: err=%v", a.Err)
	}
	if len(tgt.inv) != 1 {
		t.Fatalf("inventory after refused empty render: %v", tgt.inv)
	}
	// 4. the object leaving Git is pruned.
	r.write(t, "main@sha1:4", map[string]string{"x.yaml": strings.Replace(goodCronJob, "nightly", "x", 1)})
	a = loop.Once(ctx)
	if a.Err != nil || a.ChangeSet.Count(ActionPrune) != 1 || a.ChangeSet.Count(ActionCreate) != 1 {
		t.Fatalf("prune: err=%v changes=%+v", a.Err, a.ChangeSet.Changes)
	}
	// 5. a fetch failure keeps the last applied revision.
	r.err = errors.New("connection refused")
	if a := loop.Once(ctx); a.Err == nil || a.Stage != "fetch" {
		t.Fatalf("fetch failure: %+v", a)
	}
	if st := loop.Status(); st.LastApplied.Revision != "main@sha1:4" {
		t.Fatalf("last applied = %s", st.LastApplied.Revision)
	}
}

// TestLoopStatusKeepsSummaries: the attempt Once returns has the desired
// objects and the findings' documents; the one Status keeps has neither
// (it would hold every rendered object in memory until the next one).
func TestLoopStatusKeepsSummaries(t *testing.T) {
	r := &repo{dir: t.TempDir()}
	loop := NewLoop(r, &memTarget{inv: Inventory{}}, DefaultLoopOptions())
	// The policy warns about the missing resources: a finding.
	noResources := goodCronJob[:strings.Index(goodCronJob, "              resources:")]
	r.write(t, "main@sha1:1", map[string]string{"cj.yaml": noResources})
	a := loop.Once(context.Background())
	if a.Err != nil || len(a.ChangeSet.Changes) != 1 || a.ChangeSet.Changes[0].Desired == nil || a.Result.Outcomes[0].Change.Desired == nil {
		t.Fatalf("attempt: err=%v changes=%+v", a.Err, a.ChangeSet.Changes)
	}
	if len(a.Findings) == 0 {
		t.Fatal("no findings: the test needs a warning")
	}
	st := loop.Status()
	kept := st.LastApplied
	if kept == nil || len(kept.ChangeSet.Changes) != 1 || kept.ChangeSet.Changes[0].Ref != a.ChangeSet.Changes[0].Ref {
		t.Fatalf("kept attempt: %+v", kept)
	}
	if kept.ChangeSet.Changes[0].Desired != nil || kept.Result.Outcomes[0].Change.Desired != nil {
		t.Error("Status keeps the desired objects")
	}
	if a.ChangeSet.Changes[0].Desired == nil {
		t.Error("keeping the summary dropped the returned attempt's desired object")
	}
	f := kept.Findings[0]
	if len(f.Warnings) == 0 || f.Warnings[0].Line == 0 || f.LineOf("spec.jobTemplate.spec.template.spec.containers[0].resources") != f.Line {
		t.Errorf("kept finding: lines %d/%d, want its line kept and its document dropped (LineOf gives the object's line)", f.Line, f.LineOf("spec"))
	}
}

// runLoop runs loop.Run until stop (which waits for it to return); the
// attempts it reports arrive on the returned channel.
func runLoop(loop *Loop, trigger chan struct{}) (attempts chan Attempt, stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	attempts = make(chan Attempt, 10)
	done := make(chan struct{})
	go func() { loop.Run(ctx, trigger, func(a Attempt) { attempts <- a }); close(done) }()
	return attempts, func() { cancel(); <-done }
}

// waitTimer returns once the loop waits on a timer of clk.
func waitTimer(clk *clocktesting.FakeClock) {
	for !clk.HasWaiters() {
		runtime.Gosched()
	}
}

func TestLoopRunTriggersAndStops(t *testing.T) {
	r := &repo{dir: t.TempDir()}
	r.write(t, "main@sha1:1", map[string]string{"cj.yaml": goodCronJob})
	tgt := &memTarget{inv: Inventory{}}
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))
	opts := DefaultLoopOptions()
	opts.Clock, opts.Jitter, opts.Debounce = clk, 0, 0 // debounce: TestLoopDebouncesTriggers
	loop := NewLoop(r, tgt, opts)
	trigger := make(chan struct{})
	attempts, stop := runLoop(loop, trigger)

	<-attempts // at once
	trigger <- struct{}{}
	<-attempts // on trigger
	waitTimer(clk)
	clk.Step(time.Minute)
	<-attempts // on tick
	stop()
	if st := loop.Status(); st.Attempts != 3 || st.Failures != 0 {
		t.Fatalf("status: %+v", st)
	}
}

// TestLoopDebouncesTriggers: a trigger within Debounce of the previous
// reconcile's start waits for the rest of it, triggers meanwhile join it,
// and a trigger after a quiet spell runs at once.
func TestLoopDebouncesTriggers(t *testing.T) {
	r := &repo{dir: t.TempDir()}
	r.write(t, "main@sha1:1", map[string]string{"cj.yaml": goodCronJob})
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))
	opts := DefaultLoopOptions()
	opts.Clock, opts.Jitter, opts.Debounce = clk, 0, time.Second
	loop := NewLoop(r, &memTarget{inv: Inventory{}}, opts)
	trigger := make(chan struct{}, 1)
	attempts, stop := runLoop(loop, trigger)

	<-attempts // at once, at T0
	waitTimer(clk)
	trigger <- struct{}{} // at T0: within the debounce
	waitTimer(clk)
	for range 3 {
		trigger <- struct{}{} // a burst while the loop waits: joins the wait
		for len(trigger) > 0 {
			runtime.Gosched()
		}
	}
	select {
	case a := <-attempts:
		t.Fatalf("a reconcile at %s, before the debounce passed", a.Started)
	default:
	}
	clk.Step(time.Second)
	if a := <-attempts; !a.Started.Equal(clk.Now()) {
		t.Fatalf("debounced reconcile started at %s, want %s", a.Started, clk.Now())
	}
	waitTimer(clk)
	clk.Step(2 * time.Second) // quiet: not a tick yet (1m interval)
	trigger <- struct{}{}
	if a := <-attempts; !a.Started.Equal(clk.Now()) {
		t.Fatalf("a lone trigger ran at %s, want at once (%s)", a.Started, clk.Now())
	}
	stop()
	if st := loop.Status(); st.Attempts != 3 {
		t.Fatalf("%d attempts, want 3 (start, one for the burst, the lone trigger)", st.Attempts)
	}
}

// TestTakeDesired: DesiredFrom copies the results' objects; TakeDesired
// takes them, leaving the results without objects; both label alike.
func TestTakeDesired(t *testing.T) {
	check := func() []manifests.Result {
		rs := manifests.Check([]manifests.Input{{File: "cj.yaml", Line: 1, Data: []byte(goodCronJob)}}, manifests.DefaultOptions())
		if len(rs) != 1 || rs[0].Unstructured == nil || rs[0].Object == nil {
			t.Fatalf("check: %+v", rs)
		}
		return rs
	}
	rs := check()
	copied, err := DesiredFrom(rs, "s", "rev", "ns")
	if err != nil || len(copied) != 1 || copied[0].Object == rs[0].Unstructured || rs[0].Unstructured == nil {
		t.Fatalf("DesiredFrom: %v; want a copy, the result's object kept", err)
	}
	rs = check()
	u := rs[0].Unstructured
	taken, err := TakeDesired(rs, "s", "rev", "ns")
	if err != nil || len(taken) != 1 || taken[0].Object != u || rs[0].Unstructured != nil || rs[0].Object != nil {
		t.Fatalf("TakeDesired: %v; want the result's object taken and the result emptied", err)
	}
	if taken[0].Hash != copied[0].Hash || taken[0].Ref != copied[0].Ref || taken[0].Origin != "cj.yaml:1" {
		t.Errorf("taken %+v, copied %+v: want the same", taken[0], copied[0])
	}
}

// TestLoopSkipUnchanged: with SkipUnchanged, a tick whose revision the last
// reconcile applied stops after the fetch and is not recorded; a trigger, a
// new revision or a failed last reconcile runs in full.
func TestLoopSkipUnchanged(t *testing.T) {
	r := &repo{dir: t.TempDir()}
	tgt := &memTarget{inv: Inventory{}}
	opts := DefaultLoopOptions()
	opts.SkipUnchanged = true
	loop := NewLoop(r, tgt, opts)
	ctx := context.Background()
	steps := []struct {
		name      string
		rev       string
		tick      bool
		fail      error
		deferred  bool
		wantFull  bool
		wantStage string
	}{
		{"first tick", "main@sha1:1", true, nil, false, true, "done"},
		{"tick, same revision", "main@sha1:1", true, nil, false, false, "unchanged"},
		{"trigger, same revision", "main@sha1:1", false, nil, false, true, "done"},
		{"tick, new revision", "main@sha1:2", true, nil, false, true, "done"},
		{"tick, revision 3 fails to apply", "main@sha1:3", true, errors.New("boom"), false, true, "apply"},
		{"tick, revision 3 again: retried", "main@sha1:3", true, nil, false, true, "done"},
		{"tick, revision 3 applied: skipped", "main@sha1:3", true, nil, false, false, "unchanged"},
		{"tick, revision 4 deferred by the target", "main@sha1:4", true, nil, true, true, "done"},
		{"tick, revision 4 again: finished", "main@sha1:4", true, nil, false, true, "done"},
		{"tick, revision 4 done: skipped", "main@sha1:4", true, nil, false, false, "unchanged"},
	}
	for _, st := range steps {
		r.write(t, st.rev, map[string]string{"cj.yaml": goodCronJob})
		tgt.fail, tgt.deferAll = st.fail, st.deferred
		before, attempts := len(tgt.applied), loop.Status().Attempts
		a, recorded := loop.attempt(ctx, st.tick)
		full := len(tgt.applied) > before || a.Stage == "apply"
		if full != st.wantFull || recorded != st.wantFull || a.Stage != st.wantStage {
			t.Errorf("%s: full %v recorded %v stage %q, want full %v stage %q", st.name, full, recorded, a.Stage, st.wantFull, st.wantStage)
		}
		if got := loop.Status().Attempts - attempts; (got == 1) != st.wantFull {
			t.Errorf("%s: %d attempts recorded", st.name, got)
		}
	}
	// Without SkipUnchanged every tick runs in full.
	full := NewLoop(r, &memTarget{inv: Inventory{}}, DefaultLoopOptions())
	for range 2 {
		if a, recorded := full.attempt(ctx, true); !recorded || a.Stage != "done" {
			t.Errorf("without SkipUnchanged: stage %q recorded %v", a.Stage, recorded)
		}
	}
}

// TestLoopRunSkipsUnchangedTicks: Run reports the first reconcile and a
// triggered one, not a tick of the same revision.
func TestLoopRunSkipsUnchangedTicks(t *testing.T) {
	r := &repo{dir: t.TempDir()}
	r.write(t, "main@sha1:1", map[string]string{"cj.yaml": goodCronJob})
	clk := clocktesting.NewFakeClock(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))
	opts := DefaultLoopOptions()
	opts.Clock, opts.Jitter, opts.Debounce, opts.SkipUnchanged = clk, 0, 0, true
	loop := NewLoop(r, &memTarget{inv: Inventory{}}, opts)
	trigger := make(chan struct{})
	attempts, stop := runLoop(loop, trigger)
	<-attempts // at once
	waitTimer(clk)
	clk.Step(time.Minute) // a tick of the same revision
	waitTimer(clk)        // it ended and the loop waits again
	select {
	case a := <-attempts:
		t.Fatalf("a tick of the applied revision was reported: %+v", a)
	default:
	}
	trigger <- struct{}{}
	if a := <-attempts; a.Stage != "done" {
		t.Errorf("triggered reconcile: stage %q", a.Stage)
	}
	stop()
	if st := loop.Status(); st.Attempts != 2 {
		t.Errorf("%d attempts recorded, want 2", st.Attempts)
	}
}

// TestLoopRunCancelsRender: when the loop's context ends before the render
// (here: during the fetch), the render is cancelled and nothing is applied,
// though the attempt itself is detached from the context.
func TestLoopRunCancelsRender(t *testing.T) {
	r := &repo{dir: t.TempDir()}
	r.write(t, "main@sha1:1", map[string]string{"cj.yaml": goodCronJob})
	ctx, cancel := context.WithCancel(context.Background())
	src := SourceFunc(func(ctx context.Context) (Snapshot, error) {
		cancel() // SIGTERM arrives while the revision is fetched
		return r.Fetch(ctx)
	})
	tgt := &memTarget{inv: Inventory{}}
	opts := DefaultLoopOptions()
	opts.Clock = clocktesting.NewFakeClock(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))
	var got []Attempt
	NewLoop(src, tgt, opts).Run(ctx, nil, func(a Attempt) { got = append(got, a) })
	if len(got) != 1 || got[0].Stage != "render" || !errors.Is(got[0].Err, context.Canceled) {
		t.Fatalf("attempts %+v, want one that failed in render with context.Canceled", got)
	}
	if len(tgt.applied) != 0 {
		t.Errorf("applied %d change sets after the context ended, want none", len(tgt.applied))
	}
}
