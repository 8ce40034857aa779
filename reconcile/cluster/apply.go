package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/types"

	"github.com/jobsync/jobsync/reconcile"
)

// ErrApply is returned (wrapped) when some change of a stage failed; the
// outcomes say which. Later stages and prunes are not attempted then.
var ErrApply = errors.New("apply failed")

// result is what one change did, and how the inventory follows it.
type result struct {
	out   reconcile.Outcome
	drift bool
	// rec replaces the inventory record (nil: leave the record as it was).
	rec *record
	// drop removes the record (prunes, orphans).
	drop bool
	// event is the reason of the Event recorded on the object when the
	// change wrote to the cluster ("" = it did not); uid names the object
	// when rec does not (prunes).
	event string
	uid   types.UID
}

func done(c reconcile.Change, reason string) reconcile.Outcome {
	return reconcile.Outcome{Change: c, Done: true, Reason: reason}
}

func failed(c reconcile.Change, err error) result {
	return result{out: reconcile.Outcome{Change: c, Err: err.Error()}}
}

// Apply carries out cs stage by stage (namespaces and definitions, then
// accounts/config/secrets/volumes, then the rest, then CronJobs and Jobs,
// then prunes in reverse order), in parallel within a stage. A stage always
// runs to its end; when any of its changes failed, later stages and all
// prunes are skipped and Apply returns an error wrapping ErrApply. The
// inventory is written when it changed (a no-change reconcile writes
// nothing). A change set that only prunes is refused (reconcile.ErrEmptyRender)
// unless Options.AllowEmpty.
func (t *Target) Apply(ctx context.Context, cs reconcile.ChangeSet) (reconcile.ApplyResult, error) {
	var res reconcile.ApplyResult
	if err := t.checkEmpty(cs); err != nil {
		return res, err
	}
	old, err := t.loadRecords(ctx)
	if err != nil {
		return res, err
	}
	items := t.observe(ctx, cs.Changes, old)
	next := make(records, len(old))
	for k, v := range old {
		next[k] = v
	}
	var errs []string
	var results []result
	for _, stage := range stagesOf(items) {
		if len(errs) > 0 {
			for _, it := range stage {
				res.Outcomes = append(res.Outcomes, reconcile.Outcome{Change: it.c, Reason: "not attempted: an earlier stage failed"})
			}
			continue
		}
		for _, r := range t.runStage(ctx, cs.Revision, stage) {
			results = append(results, r)
			res.Outcomes = append(res.Outcomes, r.out)
			if r.drift {
				res.Drift = append(res.Drift, r.out.Change.Ref)
			}
			key := r.out.Change.Ref.Key()
			switch {
			case r.out.Err != "":
				errs = append(errs, r.out.Err)
			case r.drop:
				delete(next, key)
			case r.rec != nil:
				next[key] = *r.rec
			}
		}
	}
	var saveErr error
	if !next.equal(old) {
		saveErr = t.saveRecords(ctx, next)
	}
	t.recordEvents(ctx, cs.Revision, results)
	if saveErr != nil {
		return res, saveErr
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("%w: %d change(s): %s", ErrApply, len(errs), strings.Join(errs, "; "))
	}
	return res, nil
}

// checkEmpty refuses a change set with prunes but nothing desired.
func (t *Target) checkEmpty(cs reconcile.ChangeSet) error {
	if t.opts.AllowEmpty {
		return nil
	}
	desired, prunes := 0, 0
	for _, c := range cs.Changes {
		if c.Desired != nil {
			desired++
		}
		if c.Action == reconcile.ActionPrune {
			prunes++
		}
	}
	if desired == 0 && prunes > 0 {
		return fmt.Errorf("cluster target: %d prune(s): %w", prunes, reconcile.ErrEmptyRender)
	}
	return nil
}

// stagesOf groups items like reconcile.Stages groups changes.
func stagesOf(items []*item) [][]*item {
	changes := make([]reconcile.Change, len(items))
	for i, it := range items {
		changes[i] = it.c
	}
	var out [][]*item
	i := 0
	for _, s := range reconcile.Stages(changes) {
		out = append(out, items[i:i+len(s)])
		i += len(s)
	}
	return out
}

// runStage runs the stage's changes on a bounded pool of workers and returns
// their results in order.
func (t *Target) runStage(ctx context.Context, revision string, stage []*item) []result {
	out := make([]result, len(stage))
	parallel(len(stage), t.opts.Workers, func(i int) {
		out[i] = t.change(ctx, revision, stage[i])
	})
	return out
}

// change carries out one change.
func (t *Target) change(ctx context.Context, revision string, it *item) result {
	if err := ctx.Err(); err != nil {
		return failed(it.c, fmt.Errorf("%s: %w", it.c.Ref, err))
	}
	switch it.c.Action {
	case reconcile.ActionOrphan:
		return result{out: done(it.c, it.c.Reason), drop: true}
	case reconcile.ActionPrune:
		return t.prune(ctx, it)
	}
	if it.c.Desired == nil {
		return failed(it.c, fmt.Errorf("%s: %s change without a desired object", it.c.Ref, it.c.Action))
	}
	if it.mapErr != nil {
		return failed(it.c, it.mapErr)
	}
	if reconcile.IsJob(it.c.Ref) {
		return t.applyJob(ctx, revision, it)
	}
	return t.applyObject(ctx, revision, it)
}
