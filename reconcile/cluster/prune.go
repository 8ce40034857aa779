package cluster

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/jobsync/jobsync/reconcile"
)

// prune deletes an inventory object that left Git, in the background, but
// only when it is still jobsync's: never an object a controller created
// (ownerReferences, e.g. a CronJob's Jobs), never one marked
// jobsync.io/prune: disabled, never one relabelled for another sync or
// replaced by another object of the same name.
func (t *Target) prune(ctx context.Context, it *item) result {
	c := it.c
	res, err := t.mapping(ctx, c.Ref)
	if err != nil {
		if meta.IsNoMatchError(err) {
			return result{out: done(c, "left Git; its kind is no longer served"), drop: true}
		}
		return failed(c, err)
	}
	cl, err := t.client(res, c.Ref)
	if err != nil {
		return failed(c, err)
	}
	live, err := cl.Get(ctx, c.Ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return result{out: done(c, "left Git; already gone"), drop: true}
	}
	if err != nil {
		return failed(c, fmt.Errorf("%s: read before prune: %w", c.Ref, err))
	}
	if why := t.keepReason(live, it); why != "" {
		return result{out: done(c, "left Git; kept: "+why), drop: true}
	}
	prop := metav1.DeletePropagationBackground
	uid := live.GetUID()
	err = cl.Delete(ctx, c.Ref.Name, metav1.DeleteOptions{PropagationPolicy: &prop, Preconditions: &metav1.Preconditions{UID: &uid}})
	switch {
	case apierrors.IsNotFound(err):
		return result{out: done(c, "left Git; already gone"), drop: true}
	case apierrors.IsConflict(err):
		return result{out: done(c, "left Git; kept: replaced by another object of the same name"), drop: true}
	case err != nil:
		return failed(c, fmt.Errorf("%s: prune: %w", c.Ref, err))
	}
	return result{out: done(c, "left Git; deleted"), drop: true, event: EventPruned, uid: uid}
}

// keepReason says why a live object must not be pruned ("" = prune it).
func (t *Target) keepReason(live *unstructured.Unstructured, it *item) string {
	for _, o := range live.GetOwnerReferences() {
		if o.Controller != nil && *o.Controller {
			return fmt.Sprintf("created by %s/%s (ownerReferences); jobsync never prunes what a controller made", o.Kind, o.Name)
		}
	}
	if live.GetAnnotations()[reconcile.AnnotationPrune] == "disabled" {
		return reconcile.AnnotationPrune + ": disabled"
	}
	labels := live.GetLabels()
	if labels[reconcile.LabelManagedBy] != reconcile.ManagedByValue || labels[reconcile.LabelSync] != t.opts.Sync {
		return "it is no longer labelled " + t.selector()
	}
	if it.hasOld && it.old.UID != "" && string(live.GetUID()) != it.old.UID {
		return "it is another object than the one jobsync applied (uid changed)"
	}
	return ""
}
