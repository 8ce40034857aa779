package embedded

import (
	"context"
	"errors"
	"fmt"
	"maps"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/utils/ptr"

	"github.com/jobsync/jobsync/jobchange"
	"github.com/jobsync/jobsync/reconcile"
)

// Target is the embedded reconcile.Target: Apply stores the desired objects
// in the engine's store (one transaction per change set) and the controllers
// run them.
type Target struct{ e *Engine }

var _ reconcile.Target = (*Target)(nil)

// Target returns the engine's reconcile.Target.
func (e *Engine) Target() *Target { return &Target{e: e} }

// Name returns "embedded".
func (t *Target) Name() string { return "embedded" }

// Inventory returns a copy of the inventory the last Apply recorded.
func (t *Target) Inventory(ctx context.Context) (reconcile.Inventory, error) {
	t.e.mu.Lock()
	defer t.e.mu.Unlock()
	return maps.Clone(t.e.cache.inventory), nil
}

// desiredObj is one desired object decoded into its typed form.
type desiredObj struct {
	cronJob *batchv1.CronJob
	job     *batchv1.Job
	cm      *corev1.ConfigMap
	secret  *corev1.Secret
}

// Apply carries out the change set in one store transaction: CronJobs are
// created or updated (a template change affects only future Jobs); a changed
// Job is recreated per its jobsync.io/on-change annotation (default
// recreate-when-finished: a running Job is left alone and the change deferred);
// prunes delete CronJobs with their Jobs and pods (a background cascade), Jobs
// with their pods, and config objects. An object that does not decode fails
// the whole change set before anything is written.
func (t *Target) Apply(ctx context.Context, cs reconcile.ChangeSet) (reconcile.ApplyResult, error) {
	e := t.e
	if e.opts.ReadOnly {
		return reconcile.ApplyResult{}, errors.New("embedded: the engine is read-only: apply through the running agent")
	}
	decoded := make([]desiredObj, len(cs.Changes))
	for i, c := range cs.Changes {
		if c.Desired == nil || c.Action == reconcile.ActionPrune || c.Action == reconcile.ActionOrphan {
			continue
		}
		d, err := decodeDesired(c.Desired)
		if err != nil {
			return reconcile.ApplyResult{}, err
		}
		decoded[i] = d
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	b := e.newBatch(e.clock.Now())
	inv := maps.Clone(e.cache.inventory)
	res := reconcile.ApplyResult{Outcomes: make([]reconcile.Outcome, 0, len(cs.Changes))}
	for i, c := range cs.Changes {
		res.Outcomes = append(res.Outcomes, e.applyChange(b, c, decoded[i], inv, cs.Revision))
	}
	e.cache.inventory, e.cache.revision, b.inventory = inv, cs.Revision, true
	if err := e.commit(b); err != nil {
		return reconcile.ApplyResult{}, err
	}
	e.poke()
	return res, nil
}

func decodeDesired(d *reconcile.Desired) (desiredObj, error) {
	var out desiredObj
	var target any
	switch {
	case reconcile.IsCronJob(d.Ref):
		out.cronJob = &batchv1.CronJob{}
		target = out.cronJob
	case reconcile.IsJob(d.Ref):
		out.job = &batchv1.Job{}
		target = out.job
	case d.Ref.Group == "" && d.Ref.Kind == "ConfigMap":
		out.cm = &corev1.ConfigMap{}
		target = out.cm
	case d.Ref.Group == "" && d.Ref.Kind == "Secret":
		out.secret = &corev1.Secret{}
		target = out.secret
	default:
		return out, nil
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(d.Object.Object, target); err != nil {
		return out, fmt.Errorf("%s: decode (%s): %w", d.Ref, d.Origin, err)
	}
	if out.secret != nil {
		for k, v := range out.secret.StringData {
			out.secret.Data = setMap(out.secret.Data, k, []byte(v))
		}
		out.secret.StringData = nil
	}
	return out, nil
}

// applyChange applies one change and updates inv when it is done.
func (e *Engine) applyChange(b *batch, c reconcile.Change, d desiredObj, inv reconcile.Inventory, rev string) reconcile.Outcome {
	out := reconcile.Outcome{Change: c, Done: true}
	key := c.Ref.Key()
	switch c.Action {
	case reconcile.ActionUnchanged:
		if old, ok := inv[key]; ok && c.Desired != nil {
			old.PruneDisabled = pruneDisabled(c.Desired.Object)
			inv[key] = old
		}
		return out
	case reconcile.ActionOrphan:
		delete(inv, key)
		return out
	case reconcile.ActionPrune:
		e.pruneObject(b, c.Ref)
		delete(inv, key)
		return out
	}
	switch {
	case d.cronJob != nil:
		e.applyCronJob(b, d.cronJob, c.Desired.Hash)
	case d.job != nil:
		if done, why := e.applyJob(b, d.job, c.Desired.Hash); !done {
			out.Done, out.Reason = false, why
			return out
		} else if why != "" {
			out.Reason = why
		}
	case d.cm != nil:
		d.cm.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}
		e.cache.refs.setConfigMap(Key(d.cm.Namespace, d.cm.Name), d.cm)
		b.mark(KindConfigMap, Key(d.cm.Namespace, d.cm.Name))
	case d.secret != nil:
		d.secret.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}
		e.cache.refs.setSecret(Key(d.secret.Namespace, d.secret.Name), d.secret)
		b.mark(KindSecret, Key(d.secret.Namespace, d.secret.Name))
	default:
		e.cache.objects[key] = c.Desired.Object.DeepCopy()
		b.mark(KindObject, key)
	}
	inv[key] = reconcile.InventoryEntry{Ref: c.Ref, Hash: c.Desired.Hash, Revision: rev, PruneDisabled: pruneDisabled(c.Desired.Object)}
	return out
}

func pruneDisabled(u *unstructured.Unstructured) bool {
	return u.GetAnnotations()[reconcile.AnnotationPrune] == "disabled"
}

// pruneObject deletes an object that left Git.
func (e *Engine) pruneObject(b *batch, ref reconcile.ObjectRef) {
	key := Key(ref.Namespace, ref.Name)
	switch {
	case reconcile.IsCronJob(ref):
		e.deleteCronJob(b, key)
	case reconcile.IsJob(ref):
		e.deleteJob(b, key, "pruned: it left Git")
	case ref.Group == "" && ref.Kind == "ConfigMap":
		e.cache.refs.setConfigMap(key, nil)
		b.mark(KindConfigMap, key)
	case ref.Group == "" && ref.Kind == "Secret":
		e.cache.refs.setSecret(key, nil)
		b.mark(KindSecret, key)
	default:
		delete(e.cache.objects, ref.Key())
		b.mark(KindObject, ref.Key())
	}
}

// applyCronJob creates or updates a CronJob. An update keeps the UID,
// creation time and status, so the schedule carries on; a template change
// affects only the Jobs created after it. A local suspend override survives
// until Git itself changes spec.suspend.
func (e *Engine) applyCronJob(b *batch, cj *batchv1.CronJob, hash string) {
	key := Key(cj.Namespace, cj.Name)
	cj.TypeMeta = metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"}
	cj.Annotations = setMap(cj.Annotations, reconcile.AnnotationSpecHash, hash)
	defaultCronJob(cj)
	old, err := e.cache.cronJob(key)
	if err != nil {
		b.fail(err)
		return
	}
	if old == nil {
		cj.UID, cj.CreationTimestamp, cj.Status = uuid.NewUUID(), mt(b.now), batchv1.CronJobStatus{}
	} else {
		cj.UID, cj.CreationTimestamp, cj.Status = old.UID, old.CreationTimestamp, old.Status
	}
	if ov, ok := e.cache.overrides[key]; ok {
		if ov.GitSuspend == *cj.Spec.Suspend {
			cj.Spec.Suspend = ptr.To(ov.Suspend)
		} else {
			delete(e.cache.overrides, key)
			b.mark(KindOverride, key)
			b.event(KindCronJob, cj.Namespace, cj.Name, EventNormal, ReasonOverrideCleared,
				fmt.Sprintf("Git changed spec.suspend to %t; the local override is dropped", *cj.Spec.Suspend))
		}
	}
	e.putCronJob(b, cj)
	e.queue.add(cronJobQueueKey(key), b.now)
}

// mutableUpdate returns old updated with j's labels, annotations and mutable
// spec fields (ValidateJobSpecUpdate; docs/batch-semantics.md#job-update: parallelism, activeDeadlineSeconds, backoffLimit,
// maxFailedIndexes, ttlSecondsAfterFinished, suspend, podReplacementPolicy)
// when nothing else of the spec changed; false when the Job must be recreated.
func mutableUpdate(old, j *batchv1.Job) (*batchv1.Job, bool) {
	nu := j.DeepCopy()
	nu.UID = old.UID
	defaultJob(nu)
	probe := nu.Spec.DeepCopy()
	o := &old.Spec
	probe.Parallelism, probe.ActiveDeadlineSeconds, probe.BackoffLimit = o.Parallelism, o.ActiveDeadlineSeconds, o.BackoffLimit
	probe.MaxFailedIndexes, probe.TTLSecondsAfterFinished, probe.Suspend = o.MaxFailedIndexes, o.TTLSecondsAfterFinished, o.Suspend
	probe.PodReplacementPolicy = o.PodReplacementPolicy
	if !equality.Semantic.DeepEqual(*probe, old.Spec) {
		return nil, false
	}
	out := old.DeepCopy()
	out.Labels, out.Annotations, out.Spec = nu.Labels, nu.Annotations, nu.Spec
	return out, true
}

// defaultCronJob applies the API defaults (SetDefaults_CronJob; docs/batch-semantics.md#defaults).
func defaultCronJob(cj *batchv1.CronJob) {
	if cj.Spec.ConcurrencyPolicy == "" {
		cj.Spec.ConcurrencyPolicy = batchv1.AllowConcurrent
	}
	if cj.Spec.Suspend == nil {
		cj.Spec.Suspend = ptr.To(false)
	}
	if cj.Spec.SuccessfulJobsHistoryLimit == nil {
		cj.Spec.SuccessfulJobsHistoryLimit = ptr.To[int32](3)
	}
	if cj.Spec.FailedJobsHistoryLimit == nil {
		cj.Spec.FailedJobsHistoryLimit = ptr.To[int32](1)
	}
}

// applyJob creates a Job from Git or replaces a changed one per its
// jobsync.io/on-change annotation. It returns false (with the reason) when
// the change is deferred. A Job whose stored hash equals the desired one is
// left alone: a finished Job is never re-run for the same spec.
func (e *Engine) applyJob(b *batch, j *batchv1.Job, hash string) (bool, string) {
	key := Key(j.Namespace, j.Name)
	j.Annotations = setMap(j.Annotations, reconcile.AnnotationSpecHash, hash)
	oldHash, _, exists := e.cache.jobSpecHash(key)
	if exists {
		if oldHash == hash {
			return true, "the Job already has this spec"
		}
		full, err := e.fullJob(key)
		if err != nil {
			return false, err.Error()
		}
		if nu, ok := mutableUpdate(full, j); ok {
			e.putJob(b, nu)
			e.queue.add(jobQueueKey(key), b.now)
			return true, "updated in place (only mutable fields changed)"
		}
		dec, err := jobchange.Decide(j.Annotations[jobchange.Annotation], jobchange.StateOf(full))
		switch {
		case err != nil:
			return false, err.Error()
		case dec.Action == jobchange.Defer:
			return false, dec.Reason
		case dec.Action == jobchange.Keep:
			return true, dec.Reason
		}
		e.deleteJob(b, key, "recreated: its spec changed in Git")
	}
	e.createJob(b, j)
	return true, ""
}

// fullJob returns the Job in full: from the cache, or from the store when
// the cache holds it in slim form.
func (e *Engine) fullJob(key string) (*batchv1.Job, error) {
	if j := e.cache.jobs[key]; j != nil {
		return j, nil
	}
	j := &batchv1.Job{}
	err := e.store.View(func(tx *Tx) error {
		ok, err := tx.Get(KindJob, key, j)
		if err == nil && !ok {
			err = ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("Job/%s: read: %w", key, err)
	}
	return j, nil
}
