package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/jobsync/jobsync/reconcile"
)

// item is one change with what the target learnt about it before applying.
type item struct {
	c      reconcile.Change
	res    resource
	mapErr error
	// live is the object as listed by the sync's label selector; known says
	// the list ran, so a nil live means "not labelled for this sync or gone".
	live   *unstructured.Unstructured
	known  bool
	old    record
	hasOld bool
}

type listKey struct {
	res resource
	ns  string
}

// observe maps every change to its resource and lists the sync's live
// objects once per kind and namespace, so that unchanged objects are checked
// for drift without one request each.
func (t *Target) observe(ctx context.Context, changes []reconcile.Change, old records) []*item {
	items := make([]*item, len(changes))
	groups := map[listKey][]*item{}
	for i, c := range changes {
		it := &item{c: c}
		it.old, it.hasOld = old[c.Ref.Key()]
		items[i] = it
		if c.Desired == nil {
			continue
		}
		it.res, it.mapErr = t.mapping(ctx, c.Ref)
		if it.mapErr != nil {
			continue
		}
		k := listKey{res: it.res}
		if it.res.namespaced {
			k.ns = c.Ref.Namespace
		}
		groups[k] = append(groups[k], it)
	}
	keys := slices.Collect(maps.Keys(groups))
	parallel(len(keys), t.opts.Workers, func(i int) {
		live, err := t.list(ctx, keys[i])
		if err != nil {
			return // each item falls back to its own request
		}
		for _, it := range groups[keys[i]] {
			it.live, it.known = live[it.c.Ref.Name], true
		}
	})
	return items
}

// list returns the sync's objects of one resource in one namespace, by name.
func (t *Target) list(ctx context.Context, k listKey) (map[string]*unstructured.Unstructured, error) {
	cl := t.dyn.Resource(k.res.gvr)
	var ri interface {
		List(context.Context, metav1.ListOptions) (*unstructured.UnstructuredList, error)
	} = cl
	if k.res.namespaced {
		ri = cl.Namespace(k.ns)
	}
	out := map[string]*unstructured.Unstructured{}
	opts := metav1.ListOptions{LabelSelector: t.selector(), Limit: 1000}
	for {
		l, err := ri.List(ctx, opts)
		if err != nil {
			return nil, err
		}
		for i := range l.Items {
			out[l.Items[i].GetName()] = &l.Items[i]
		}
		if l.GetContinue() == "" {
			return out, nil
		}
		opts.Continue = l.GetContinue()
	}
}

// applyObject applies a non-Job object: creates and updates always, an
// unchanged object only when its live state drifted from what was applied.
func (t *Target) applyObject(ctx context.Context, revision string, it *item) result {
	c := it.c
	if c.Action == reconcile.ActionUnchanged && it.hasOld {
		why := t.driftReason(it.live, c.Desired.Hash, it.old.Fields)
		if why == "" {
			return result{out: done(c, ""), rec: t.keepRecord(it.old, it.live)}
		}
		obj, err := t.ssa(ctx, it.res, c.Desired, false)
		if err != nil {
			return failed(c, err)
		}
		return result{out: done(c, "drift put back: "+why), drift: true, rec: t.newRecord(c.Desired, revision, obj), event: EventDriftCorrected}
	}
	obj, err := t.ssa(ctx, it.res, c.Desired, false)
	if err != nil {
		return failed(c, err)
	}
	return result{out: done(c, c.Reason), rec: t.newRecord(c.Desired, revision, obj), event: EventApplied}
}

// driftReason says how live differs from what jobsync applied ("" = it does
// not): gone, spec-hash annotation changed, or fields jobsync manages taken
// over or removed by another field manager (kubectl edit, another apply).
func (t *Target) driftReason(live *unstructured.Unstructured, hash, fields string) string {
	switch {
	case live == nil:
		return "the object is gone or lost its " + reconcile.LabelSync + " label"
	case live.GetAnnotations()[reconcile.AnnotationSpecHash] != hash:
		return "the " + reconcile.AnnotationSpecHash + " annotation changed"
	case live.GetDeletionTimestamp() != nil:
		return "the object is being deleted"
	}
	got := fieldsHash(live, t.opts.FieldManager)
	if got == "" {
		return "jobsync manages no field of the object any more"
	}
	if fields != "" && got != fields {
		if others := otherManagers(live, t.opts.FieldManager); len(others) > 0 {
			return "fields managed by jobsync were changed by " + strings.Join(others, ", ")
		}
		return "fields managed by jobsync were changed"
	}
	return ""
}

// keepRecord returns the old record, completed from live where it lacks the
// UID or field hash (inventories written before those existed).
func (t *Target) keepRecord(old record, live *unstructured.Unstructured) *record {
	r := old
	if live != nil {
		if r.UID == "" {
			r.UID = string(live.GetUID())
		}
		if r.Fields == "" {
			r.Fields = fieldsHash(live, t.opts.FieldManager)
		}
	}
	return &r
}

func (t *Target) newRecord(d *reconcile.Desired, revision string, obj *unstructured.Unstructured) *record {
	return &record{
		InventoryEntry: reconcile.InventoryEntry{
			Ref: d.Ref, Hash: d.Hash, Revision: revision,
			PruneDisabled: d.Object.GetAnnotations()[reconcile.AnnotationPrune] == "disabled",
		},
		UID:    string(obj.GetUID()),
		Fields: fieldsHash(obj, t.opts.FieldManager),
	}
}

// ssa server-side applies the desired object, with the spec-hash annotation,
// forcing ownership of every field it sets.
func (t *Target) ssa(ctx context.Context, res resource, d *reconcile.Desired, dryRun bool) (*unstructured.Unstructured, error) {
	cl, err := t.client(res, d.Ref)
	if err != nil {
		return nil, err
	}
	opts := metav1.ApplyOptions{FieldManager: t.opts.FieldManager, Force: true}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	obj, err := cl.Apply(ctx, d.Ref.Name, applyConfig(d), opts)
	if err != nil {
		return nil, fmt.Errorf("%s (%s): apply: %w", d.Ref, d.Origin, err)
	}
	return obj, nil
}

// applyConfig is the desired object as jobsync applies it: without fields
// only the server may set, with the spec-hash annotation.
func applyConfig(d *reconcile.Desired) *unstructured.Unstructured {
	u := d.Object.DeepCopy()
	delete(u.Object, "status")
	for _, f := range []string{"uid", "resourceVersion", "managedFields", "creationTimestamp", "generation", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"} {
		unstructured.RemoveNestedField(u.Object, "metadata", f)
	}
	ann := u.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[reconcile.AnnotationSpecHash] = d.Hash
	u.SetAnnotations(ann)
	return u
}

// fieldsHash hashes the set of fields jobsync's apply (as manager) manages on
// obj (its managedFields entry); "" when jobsync manages nothing there.
func fieldsHash(obj *unstructured.Unstructured, manager string) string {
	for _, m := range obj.GetManagedFields() {
		if m.Manager == manager && m.Operation == metav1.ManagedFieldsOperationApply && m.Subresource == "" && m.FieldsV1 != nil {
			sum := sha256.Sum256(m.FieldsV1.GetRawBytes())
			return hex.EncodeToString(sum[:12])
		}
	}
	return ""
}

// otherManagers lists the managers other than jobsync that wrote obj's main
// resource (not its status), most recent first.
func otherManagers(obj *unstructured.Unstructured, manager string) []string {
	mfs := obj.GetManagedFields()
	sort.SliceStable(mfs, func(i, j int) bool {
		ti, tj := mfs[i].Time, mfs[j].Time
		return ti != nil && (tj == nil || tj.After(ti.Time))
	})
	var out []string
	for _, m := range mfs {
		if m.Manager != manager && m.Subresource == "" {
			out = append(out, m.Manager)
		}
	}
	return out
}
