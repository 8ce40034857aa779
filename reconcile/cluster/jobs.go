package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/jobsync/jobsync/jobchange"
	"github.com/jobsync/jobsync/reconcile"
)

// Reasons reported for Jobs.
const (
	reasonRan     = "already ran for this spec; the Job is gone (ttlSecondsAfterFinished or deleted) and is not created again"
	reasonInPlace = "updated in place: only mutable fields changed"
)

// applyJob applies a Job. A Job runs once per spec: one that is gone but
// already ran with the same spec hash is not created again; a changed spec
// is applied in place when only mutable fields changed, and otherwise the Job
// is recreated as its jobsync.io/on-change annotation says.
func (t *Target) applyJob(ctx context.Context, revision string, it *item) result {
	c, d := it.c, it.c.Desired
	live, err := t.liveJob(ctx, it)
	if err != nil {
		return failed(c, err)
	}
	switch {
	case live == nil && c.Action == reconcile.ActionUnchanged && it.hasOld:
		return result{out: done(c, reasonRan), rec: &it.old}
	case live == nil:
		obj, err := t.ssa(ctx, it.res, d, false)
		if err != nil {
			return failed(c, err)
		}
		return result{out: done(c, c.Reason), rec: t.newRecord(d, revision, obj), event: EventApplied}
	case live.GetAnnotations()[reconcile.AnnotationSpecHash] == d.Hash:
		fields := it.old.Fields
		if !it.hasOld || it.old.Hash != d.Hash {
			fields = ""
		}
		why := t.driftReason(live, d.Hash, fields)
		if why == "" {
			if c.Action == reconcile.ActionUnchanged {
				return result{out: done(c, ""), rec: t.keepRecord(it.old, live)}
			}
			return result{out: done(c, "the live Job already has this spec"), rec: t.newRecord(d, revision, live)}
		}
		obj, err := t.ssa(ctx, it.res, d, false)
		if err != nil {
			return failed(c, err)
		}
		return result{out: done(c, "drift put back: "+why), drift: true, rec: t.newRecord(d, revision, obj), event: EventDriftCorrected}
	}
	// The live Job has another spec: mutable changes go in place, unless the
	// server already refused this spec in place.
	if !it.hasOld || it.old.Immutable != d.Hash {
		obj, err := t.ssa(ctx, it.res, d, false)
		if err == nil {
			r := result{out: done(c, reasonInPlace), drift: c.Action == reconcile.ActionUnchanged, rec: t.newRecord(d, revision, obj), event: EventApplied}
			if r.drift {
				r.event = EventDriftCorrected
			}
			return r
		}
		if !immutable(err) {
			return failed(c, err)
		}
	}
	return t.replaceJob(ctx, revision, it, live)
}

// liveJob returns the Job as observed, or reads it when the list did not
// show it (it may exist without the sync's labels).
func (t *Target) liveJob(ctx context.Context, it *item) (*unstructured.Unstructured, error) {
	if it.live != nil {
		return it.live, nil
	}
	return t.read(ctx, it.res, it.c.Ref)
}

// read gets the live object of ref (nil when there is none).
func (t *Target) read(ctx context.Context, res resource, ref reconcile.ObjectRef) (*unstructured.Unstructured, error) {
	cl, err := t.client(res, ref)
	if err != nil {
		return nil, err
	}
	u, err := cl.Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: read: %w", ref, err)
	}
	return u, nil
}

// replaceJob recreates a Job whose immutable fields changed, per its
// jobsync.io/on-change annotation.
func (t *Target) replaceJob(ctx context.Context, revision string, it *item, live *unstructured.Unstructured) result {
	c, d := it.c, it.c.Desired
	// A kept Job keeps its record, noting that this spec cannot go in place.
	var keep *record
	if it.hasOld {
		r := it.old
		r.Immutable = d.Hash
		keep = &r
	}
	dec, err := jobchange.Decide(d.Object.GetAnnotations()[jobchange.Annotation], liveState(live))
	switch {
	case err != nil:
		return failed(c, fmt.Errorf("%s (%s): %w", c.Ref, d.Origin, err))
	case dec.Action == jobchange.Defer:
		return result{out: reconcile.Outcome{Change: c, Reason: dec.Reason}, rec: keep}
	case dec.Action == jobchange.Keep:
		return result{out: done(c, dec.Reason), rec: keep}
	}
	if err := t.deleteAndWait(ctx, it, live.GetUID()); err != nil {
		return failed(c, err)
	}
	obj, err := t.ssa(ctx, it.res, d, false)
	if err != nil {
		return failed(c, err)
	}
	return result{out: done(c, "recreated: "+c.Reason), rec: t.newRecord(d, revision, obj), event: EventRecreated}
}

// deleteAndWait deletes the Job (only the one with uid) with the configured
// propagation and waits until it is gone.
func (t *Target) deleteAndWait(ctx context.Context, it *item, uid types.UID) error {
	cl, err := t.client(it.res, it.c.Ref)
	if err != nil {
		return err
	}
	prop := metav1.DeletionPropagation(t.opts.RecreatePropagation)
	err = cl.Delete(ctx, it.c.Ref.Name, metav1.DeleteOptions{PropagationPolicy: &prop, Preconditions: &metav1.Preconditions{UID: &uid}})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("%s: delete before recreate: %w", it.c.Ref, err)
	}
	ctx, cancel := context.WithTimeout(ctx, t.opts.DeleteTimeout)
	defer cancel()
	var finalizers []string
	for {
		u, err := cl.Get(ctx, it.c.Ref.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) || (err == nil && u.GetUID() != uid) {
			return nil
		}
		if err == nil {
			finalizers = u.GetFinalizers()
		} else if !errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%s: wait for deletion: %w", it.c.Ref, err)
		}
		if err := t.sleep(ctx, t.opts.PollInterval); err != nil {
			return fmt.Errorf("%s: still there %s after deletion (finalizers %v): %w", it.c.Ref, t.opts.DeleteTimeout, finalizers, err)
		}
	}
}

// immutable reports whether an apply failed only because it changes fields
// a Job does not allow to change.
func immutable(err error) bool {
	var se apierrors.APIStatus
	if !errors.As(err, &se) || !apierrors.IsInvalid(err) {
		return false
	}
	d := se.Status().Details
	if d == nil || len(d.Causes) == 0 {
		return strings.Contains(se.Status().Message, "immutable")
	}
	for _, c := range d.Causes {
		if !strings.Contains(c.Message, "immutable") {
			return false
		}
	}
	return true
}

// liveState is the state of a live Job (its conditions and spec.suspend).
func liveState(u *unstructured.Unstructured) jobchange.State {
	j := &batchv1.Job{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, j); err != nil {
		return jobchange.Running // unreadable: the safe answer waits
	}
	return jobchange.StateOf(j)
}
