package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/pmezard/go-difflib/difflib"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/jobsync/jobsync/jobchange"
	"github.com/jobsync/jobsync/reconcile"
)

// ObjectDiff is what applying one change would do to the live object, as
// the API server computes it in a server-side dry run.
type ObjectDiff struct {
	Ref reconcile.ObjectRef `json:"ref"`
	// Action is the planned action; an unchanged object whose live state
	// drifted has ActionUnchanged and a Note saying apply puts it back.
	Action reconcile.Action `json:"action"`
	// Note explains what the dry run cannot show: a Job that is recreated
	// (its template is immutable), a Job that already ran, a prune that keeps
	// the object, drift.
	Note string `json:"note,omitempty"`
	// Live and Merged are the object before and after as YAML, without what
	// the server manages (managedFields, resourceVersion, uid, timestamps,
	// status); "" when the object does not exist on that side.
	Live   string `json:"live,omitempty"`
	Merged string `json:"merged,omitempty"`
	// Diff is the unified diff from Live to Merged ("" = no difference).
	Diff string `json:"diff,omitempty"`
	// Err is why the dry run failed for this object (the API server's words).
	Err string `json:"error,omitempty"`
}

// Changed reports whether applying would change the live object.
func (d ObjectDiff) Changed() bool { return d.Diff != "" }

// Diff dry-runs cs against the cluster: every desired object is server-side
// applied with dryRun=All (field manager and force as Apply uses them), and
// compared with the live object; prunes compare the live object with
// nothing. It writes nothing and returns one ObjectDiff per change, in the
// order of cs. An error is returned only when the inventory cannot be read;
// failures of single objects are in their Err.
func (t *Target) Diff(ctx context.Context, cs reconcile.ChangeSet) ([]ObjectDiff, error) {
	recs, err := t.loadRecords(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]ObjectDiff, len(cs.Changes))
	parallel(len(cs.Changes), t.opts.Workers, func(i int) {
		c := cs.Changes[i]
		it := &item{c: c}
		it.old, it.hasOld = recs[c.Ref.Key()]
		out[i] = t.diffOne(ctx, it)
	})
	return out, nil
}

// parallel calls f(0..n-1) on at most workers goroutines.
func parallel(n, workers int, f func(i int)) {
	work := make(chan int)
	var wg sync.WaitGroup
	for range max(1, min(workers, n)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				f(i)
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
}

func (t *Target) diffOne(ctx context.Context, it *item) ObjectDiff {
	c := it.c
	d := ObjectDiff{Ref: c.Ref, Action: c.Action}
	if c.Action == reconcile.ActionOrphan {
		d.Note = c.Reason
		return d
	}
	res, err := t.mapping(ctx, c.Ref)
	if err != nil {
		d.Err = err.Error()
		return d
	}
	live, err := t.read(ctx, res, c.Ref)
	if err != nil {
		d.Err = err.Error()
		return d
	}
	var merged *unstructured.Unstructured
	if c.Action == reconcile.ActionPrune {
		merged, d.Note = t.diffPrune(live, it)
	} else {
		it.res = res
		merged, d.Note, err = t.diffApply(ctx, it, live)
		if err != nil {
			d.Err = err.Error()
			return d
		}
	}
	if err := d.render(live, merged); err != nil {
		d.Err = fmt.Sprintf("%s: %v", c.Ref, err)
	}
	if c.Action == reconcile.ActionUnchanged && d.Changed() && d.Note == "" {
		d.Note = "drift: the live object differs from Git; apply puts it back"
	}
	return d
}

// diffPrune returns what is left of live after the prune (nil when deleted).
func (t *Target) diffPrune(live *unstructured.Unstructured, it *item) (*unstructured.Unstructured, string) {
	if live == nil {
		return nil, "left Git; already gone"
	}
	if why := t.keepReason(live, it); why != "" {
		return live, "left Git; kept: " + why
	}
	return nil, "left Git; deleted"
}

// diffApply returns the object as it would be after the change, from a
// dry-run apply, with a note where the dry run is not the whole story.
func (t *Target) diffApply(ctx context.Context, it *item, live *unstructured.Unstructured) (*unstructured.Unstructured, string, error) {
	c, d := it.c, *it.c.Desired
	if live == nil && reconcile.IsJob(c.Ref) && c.Action == reconcile.ActionUnchanged && it.hasOld {
		return nil, reasonRan, nil
	}
	if c.Action == reconcile.ActionUnchanged && live != nil {
		// Apply leaves an unchanged object's revision annotation as it is.
		d.Object = withRevision(d.Object, live.GetAnnotations()[reconcile.AnnotationRevision])
	}
	merged, err := t.ssa(ctx, it.res, &d, true)
	if err == nil {
		return merged, "", nil
	}
	if reconcile.IsJob(c.Ref) && live != nil && immutable(err) {
		note := "the Job's template is immutable: it is deleted and created again (" + reconcile.AnnotationOnChange + ": " + onChange(d.Object) + ")"
		return applyConfig(&d), note, nil
	}
	if live == nil && namespaceMissing(err) {
		return applyConfig(&d), "shown as in Git, not dry-run: its namespace does not exist yet", nil
	}
	return nil, "", err
}

// namespaceMissing reports whether err says the object's namespace is not
// there (it may be created by an earlier stage of the same apply).
func namespaceMissing(err error) bool {
	var se apierrors.APIStatus
	if !errors.As(err, &se) || !apierrors.IsNotFound(err) {
		return false
	}
	d := se.Status().Details
	return d != nil && d.Kind == "namespaces"
}

// onChange names the Job's on-change mode for a note (the value as written
// when it is not a mode: the apply then fails, and validate reports it).
func onChange(u *unstructured.Unstructured) string {
	v := u.GetAnnotations()[jobchange.Annotation]
	if m, err := jobchange.ParseMode(v); err == nil {
		return string(m)
	}
	return v
}

func withRevision(u *unstructured.Unstructured, rev string) *unstructured.Unstructured {
	if rev == "" {
		return u
	}
	u = u.DeepCopy()
	ann := u.GetAnnotations()
	ann[reconcile.AnnotationRevision] = rev
	u.SetAnnotations(ann)
	return u
}

// render fills Live, Merged and Diff.
func (d *ObjectDiff) render(live, merged *unstructured.Unstructured) error {
	var err error
	if d.Live, err = cleanYAML(live); err != nil {
		return err
	}
	if d.Merged, err = cleanYAML(merged); err != nil {
		return err
	}
	if d.Live == d.Merged {
		return nil
	}
	name := d.Ref.String()
	d.Diff, err = difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: lines(d.Live), B: lines(d.Merged),
		FromFile: "live/" + name, ToFile: "git/" + name, Context: 3,
	})
	return err
}

// lines splits text that ends in "\n" into lines that keep theirs (none for "").
func lines(s string) []string {
	out := strings.SplitAfter(s, "\n")
	if out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return out
}

// cleanYAML renders u without what the server manages ("" for nil).
func cleanYAML(u *unstructured.Unstructured) (string, error) {
	if u == nil {
		return "", nil
	}
	obj := u.DeepCopy().Object
	delete(obj, "status")
	if md, ok := obj["metadata"].(map[string]any); ok {
		for _, f := range []string{"managedFields", "resourceVersion", "uid", "generation", "creationTimestamp", "selfLink"} {
			delete(md, f)
		}
	}
	b, err := yaml.Marshal(obj)
	if err != nil {
		return "", fmt.Errorf("render YAML: %w", err)
	}
	return strings.TrimRight(string(b), "\n") + "\n", nil
}
