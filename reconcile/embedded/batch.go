package embedded

import (
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// batch collects the writes of one round of syncs. Writers update the cache
// at once (later syncs in the round see them) and mark the key dirty; commit
// writes every dirty key's current cache value (or its deletion) in one store
// transaction, and only then performs the side effects (kill, start). When the
// commit fails the cache is reloaded from the store and the side effects are
// dropped, so the cache never runs ahead of the disk.
type batch struct {
	// err, when set, fails the commit (see fail).
	err       error
	now       time.Time
	dirty     map[dirtyKey]struct{}
	events    []eventOp
	inventory bool
	kills     []killOp
	starts    []string
}

type dirtyKey struct {
	kind Kind
	key  string
}

type eventOp struct {
	key string
	ev  *Event // nil: drop the ring
}

type killOp struct{ key, reason string }

func (e *Engine) newBatch(now time.Time) *batch {
	return &batch{now: now, dirty: map[dirtyKey]struct{}{}}
}

func (b *batch) empty() bool {
	return len(b.dirty) == 0 && len(b.events) == 0 && !b.inventory && len(b.kills) == 0 && len(b.starts) == 0
}

func (b *batch) mark(k Kind, key string) { b.dirty[dirtyKey{k, key}] = struct{}{} }

// fail makes the commit fail with err (the first one given): the round is
// dropped and the cache reloaded from the store, as for a write error.
func (b *batch) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

// event records an event on an object.
func (b *batch) event(k Kind, namespace, name, typ, reason, msg string) {
	b.events = append(b.events, eventOp{key: EventKey(k, namespace, name), ev: &Event{Type: typ, Reason: reason, Message: msg, Time: b.now}})
}

func (e *Engine) putCronJob(b *batch, cj *batchv1.CronJob) {
	key := Key(cj.Namespace, cj.Name)
	if err := e.cache.setCronJob(key, cj); err != nil {
		b.fail(err)
		return
	}
	b.mark(KindCronJob, key)
}

func (e *Engine) putJob(b *batch, j *batchv1.Job) {
	key := Key(j.Namespace, j.Name)
	e.cache.setJob(key, j)
	b.mark(KindJob, key)
}

func (e *Engine) putPod(b *batch, p *corev1.Pod) {
	key := Key(p.Namespace, p.Name)
	e.cache.setPod(key, p)
	b.mark(KindPod, key)
}

// deleteCronJob deletes a CronJob and, like a foreground cascade, its Jobs
// and their pods.
func (e *Engine) deleteCronJob(b *batch, key string) {
	cj, err := e.cache.cronJob(key)
	if err != nil {
		b.fail(err)
		return
	}
	if cj == nil {
		return
	}
	for _, j := range e.cache.jobsOf(cj.UID) {
		e.deleteJob(b, Key(j.Namespace, j.Name), "the CronJob was deleted")
	}
	delete(e.cache.cronJobs, key)
	delete(e.cache.overrides, key)
	b.mark(KindCronJob, key)
	b.mark(KindOverride, key)
	b.events = append(b.events, eventOp{key: EventKey(KindCronJob, cj.Namespace, cj.Name)})
}

// deleteJob deletes a Job and its pods, killing the ones still running.
func (e *Engine) deleteJob(b *batch, key, why string) {
	info, owners, ok := e.cache.jobInfo(key)
	if !ok {
		return
	}
	for _, pk := range e.cache.podKeys(key) {
		if p := e.cache.pods[pk]; p != nil && !podTerminal(p) {
			b.kills = append(b.kills, killOp{key: pk, reason: "JobDeleted: " + why})
		}
		b.mark(KindPod, pk)
		ns, name := splitKey(pk)
		b.events = append(b.events, eventOp{key: EventKey(KindPod, ns, name)})
	}
	e.cache.removeJob(key)
	b.mark(KindJob, key)
	b.events = append(b.events, eventOp{key: EventKey(KindJob, info.Namespace, info.Name)})
	e.queueOwner(info.Namespace, owners, b.now)
}

// queueOwner queues the CronJob that controls a Job, if any.
func (e *Engine) queueOwner(namespace string, owners []metav1.OwnerReference, now time.Time) {
	uid := controllerUID(owners)
	for _, r := range owners {
		if r.UID != uid || r.Kind != "CronJob" {
			continue
		}
		key := Key(namespace, r.Name)
		if cj, ok := e.cache.cronJobs[key]; ok && cj.uid == uid {
			e.queue.add(cronJobQueueKey(key), now)
		}
	}
}

// value returns the cache's current value of a dirty key (nil when
// deleted); skip is true for a done Job, which the store already holds in full.
func (e *Engine) value(d dirtyKey) (v any, skip bool) {
	var ok bool
	switch d.kind {
	case KindCronJob:
		var cj storedCronJob
		if cj, ok = e.cache.cronJobs[d.key]; ok {
			v = rawValue(cj.raw)
		}
	case KindJob:
		if e.cache.done[d.key] != nil {
			return nil, true
		}
		v, ok = e.cache.jobs[d.key]
	case KindPod:
		v, ok = e.cache.pods[d.key]
	case KindConfigMap:
		v, ok = e.cache.refs.ConfigMap(splitKey(d.key))
	case KindSecret:
		v, ok = e.cache.refs.Secret(splitKey(d.key))
	case KindObject:
		v, ok = e.cache.objects[d.key]
	case KindOverride:
		v, ok = e.cache.overrides[d.key]
	}
	if !ok {
		return nil, false
	}
	return v, false
}

// commit writes the batch in one transaction, then performs its side effects.
func (e *Engine) commit(b *batch) error {
	if b.empty() && b.err == nil {
		return nil
	}
	err := e.store.Update(func(tx *Tx) error {
		if b.err != nil {
			return b.err
		}
		for d := range b.dirty {
			v, skip := e.value(d)
			if skip {
				continue
			}
			var err error
			if v == nil {
				err = tx.Delete(d.kind, d.key)
			} else {
				err = tx.Put(d.kind, d.key, v)
			}
			if err != nil {
				return err
			}
		}
		for _, op := range b.events {
			var err error
			if op.ev == nil {
				err = tx.DeleteEvents(op.key)
			} else {
				err = tx.AddEvent(op.key, *op.ev)
			}
			if err != nil {
				return err
			}
		}
		if b.inventory {
			return tx.SetInventory(e.cache.inventory, e.cache.revision)
		}
		return nil
	})
	if err != nil {
		if c, lerr := loadCache(e.store); lerr == nil {
			e.cache = c
		}
		return fmt.Errorf("embedded: commit to %s: %w", e.store.Path(), err)
	}
	if e.onCommit != nil {
		e.onCommit(b)
	}
	for d := range b.dirty {
		if d.kind == KindJob {
			e.cache.coolJob(d.key)
		}
	}
	e.sideEffects(b)
	return nil
}

// sideEffects kills, then starts, the pods the committed batch asked for.
func (e *Engine) sideEffects(b *batch) {
	for _, k := range b.kills {
		if h, ok := e.handles[k.key]; ok {
			h.Kill(k.reason)
			continue
		}
		if _, ok := e.cache.pods[k.key]; ok {
			e.noProcess[k.key] = podEnd{reason: "Killed", message: k.reason}
			e.poke()
		}
	}
	for _, k := range b.starts {
		e.startPod(k)
	}
}

// startPod hands a committed Pending pod to the runner.
func (e *Engine) startPod(key string) {
	p := e.cache.pods[key]
	if p == nil || podTerminal(p) || p.DeletionTimestamp != nil {
		return
	}
	if _, running := e.handles[key]; running {
		return
	}
	h, err := e.opts.Runner.Start(e.runCtx, p.DeepCopy(), e.cache.refs)
	if err != nil {
		e.noProcess[key] = podEnd{reason: ReasonStartError, message: err.Error()}
		e.poke()
		return
	}
	e.handles[key] = h
	go func() {
		select {
		case <-h.Done():
			e.poke()
		case <-e.runCtx.Done():
		}
	}()
}

// collectEnded records the final status of pods whose process ended (or
// that never had one) and queues their Jobs. It returns how many it saw.
func (e *Engine) collectEnded(b *batch) int {
	n := 0
	for key, h := range e.handles {
		select {
		case <-h.Done():
		default:
			continue
		}
		delete(e.handles, key)
		n++
		if p := e.cache.pods[key]; p != nil {
			np := p.DeepCopy()
			np.Status = normalizeStatus(h.Status())
			e.putPod(b, np)
			e.queuePodOwner(np, b.now)
		}
	}
	for key, end := range e.noProcess {
		delete(e.noProcess, key)
		n++
		if p := e.cache.pods[key]; p != nil && !podTerminal(p) {
			np := p.DeepCopy()
			failPod(np, b.now, end.reason, end.message)
			e.putPod(b, np)
			b.event(KindPod, np.Namespace, np.Name, EventWarning, end.reason, end.message)
			e.queuePodOwner(np, b.now)
		}
	}
	return n
}

// refreshPod mirrors a running pod's live status into the cache (and the
// store) when it changed; it returns the pod to use.
func (e *Engine) refreshPod(b *batch, p *corev1.Pod) *corev1.Pod {
	h, ok := e.handles[Key(p.Namespace, p.Name)]
	if !ok {
		return p
	}
	st := normalizeStatus(h.Status())
	if st.Phase == corev1.PodSucceeded || st.Phase == corev1.PodFailed {
		// Recorded by collectEnded once Done is closed.
		return p
	}
	if equality.Semantic.DeepEqual(st, p.Status) {
		return p
	}
	np := p.DeepCopy()
	np.Status = st
	e.putPod(b, np)
	return np
}

func (e *Engine) queuePodOwner(p *corev1.Pod, now time.Time) {
	uid := controllerUID(p.OwnerReferences)
	for _, r := range p.OwnerReferences {
		if r.UID == uid && r.Kind == "Job" {
			e.queue.add(jobQueueKey(Key(p.Namespace, r.Name)), now)
		}
	}
}

// failPod marks a pod that has no process Failed with reason, as the node
// lifecycle would: condition DisruptionTarget, Ready false.
func failPod(p *corev1.Pod, now time.Time, reason, msg string) {
	t := mt(now)
	p.Status.Phase = corev1.PodFailed
	p.Status.Reason = reason
	p.Status.Message = msg
	p.Status.Conditions = setPodCondition(p.Status.Conditions, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue, Reason: reason, Message: msg, LastTransitionTime: t})
	p.Status.Conditions = setPodCondition(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: reason, LastTransitionTime: t})
}

func setPodCondition(conds []corev1.PodCondition, c corev1.PodCondition) []corev1.PodCondition {
	for i := range conds {
		if conds[i].Type == c.Type {
			conds[i] = c
			return conds
		}
	}
	return append(conds, c)
}

// podTerminal reports whether a pod is Succeeded or Failed.
func podTerminal(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
}

// mt returns t as the store keeps it (whole seconds).
func mt(t time.Time) metav1.Time { return metav1.NewTime(t.Truncate(time.Second)) }

func mtp(t time.Time) *metav1.Time { m := mt(t); return &m }

// normalizeStatus truncates the executor's times to whole seconds, so the
// cache equals what a reload of the store gives.
func normalizeStatus(st corev1.PodStatus) corev1.PodStatus {
	st = *st.DeepCopy()
	trunc := func(t *metav1.Time) {
		if t != nil && !t.IsZero() {
			*t = mt(t.Time)
		}
	}
	if st.StartTime != nil {
		trunc(st.StartTime)
	}
	for i := range st.Conditions {
		trunc(&st.Conditions[i].LastTransitionTime)
		trunc(&st.Conditions[i].LastProbeTime)
	}
	for _, list := range [][]corev1.ContainerStatus{st.InitContainerStatuses, st.ContainerStatuses} {
		for i := range list {
			for _, s := range []*corev1.ContainerState{&list[i].State, &list[i].LastTerminationState} {
				if s.Running != nil {
					trunc(&s.Running.StartedAt)
				}
				if s.Terminated != nil {
					trunc(&s.Terminated.StartedAt)
					trunc(&s.Terminated.FinishedAt)
				}
			}
		}
	}
	return st
}

func splitKey(key string) (string, string) {
	for i := 0; i < len(key); i++ {
		if key[i] == '/' {
			return key[:i], key[i+1:]
		}
	}
	return "", key
}
