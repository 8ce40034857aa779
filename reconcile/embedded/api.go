package embedded

import (
	"errors"
	"fmt"
	"sort"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/utils/ptr"
)

// ErrNotFound is returned (wrapped) when a command names an object the store
// does not hold.
var ErrNotFound = errors.New("not found")

// ErrReadOnly is returned (wrapped) by commands on a read-only engine.
var ErrReadOnly = errors.New("the state is open read-only: send the command to the running agent")

// AnnotationInstantiate marks a Job created by Trigger, as kubectl create job
// --from=cronjob does.
const AnnotationInstantiate = "cronjob.kubernetes.io/instantiate"

// ListCronJobs returns copies of every CronJob, sorted by namespace and name.
func (e *Engine) ListCronJobs() []batchv1.CronJob {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]batchv1.CronJob, 0, len(e.cache.cronJobs))
	for key := range e.cache.cronJobs {
		// The bytes were decoded when loaded or encoded from an object:
		// decoding them again does not fail.
		if cj, err := e.cache.cronJob(key); err == nil {
			out = append(out, *cj)
		}
	}
	sort.Slice(out, func(i, j int) bool { return Key(out[i].Namespace, out[i].Name) < Key(out[j].Namespace, out[j].Name) })
	return out
}

// ListJobs returns every Job, read from the store (the cache keeps finished
// Jobs in slim form), sorted by namespace and name.
func (e *Engine) ListJobs() []batchv1.Job {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []batchv1.Job
	_ = e.store.View(func(tx *Tx) error {
		return forEachTyped(tx, KindJob, func(_ string, j *batchv1.Job) { out = append(out, *j) })
	})
	return out
}

// ListPods returns every pod, read from the store, with the live status of
// the running ones, sorted by namespace and name.
func (e *Engine) ListPods() []corev1.Pod {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []corev1.Pod
	_ = e.store.View(func(tx *Tx) error {
		return forEachTyped(tx, KindPod, func(key string, p *corev1.Pod) { out = append(out, e.livePod(key, p)) })
	})
	return out
}

// JobPods returns the pods of one Job, oldest first, with live statuses.
func (e *Engine) JobPods(namespace, job string) ([]corev1.Pod, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.cache.hasJob(Key(namespace, job)) {
		return nil, fmt.Errorf("Job/%s/%s: %w", namespace, job, ErrNotFound)
	}
	var out []corev1.Pod
	err := e.store.View(func(tx *Tx) error {
		for _, k := range e.cache.podKeys(Key(namespace, job)) {
			var p corev1.Pod
			if ok, err := tx.Get(KindPod, k, &p); err != nil || !ok {
				return err
			}
			out = append(out, e.livePod(k, &p))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("Job/%s/%s: read pods: %w", namespace, job, err)
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].CreationTimestamp.Before(&out[b].CreationTimestamp) })
	return out, nil
}

// livePod copies p with its process's current status when it runs. Callers hold mu.
func (e *Engine) livePod(key string, p *corev1.Pod) corev1.Pod {
	cp := *p.DeepCopy()
	if h, ok := e.handles[key]; ok {
		cp.Status = normalizeStatus(h.Status())
	}
	return cp
}

// Trigger creates a Job from a CronJob's template now, like kubectl create job
// --from=cronjob/NAME: named <cronjob>-manual-<3 random characters>, annotated
// cronjob.kubernetes.io/instantiate: manual, owned by the CronJob (so its
// history limits apply) but not in its active list (concurrencyPolicy ignores it).
func (e *Engine) Trigger(namespace, cronJob string) (*batchv1.Job, error) {
	if e.opts.ReadOnly {
		return nil, fmt.Errorf("CronJob/%s/%s: trigger: %w", namespace, cronJob, ErrReadOnly)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	cj, err := e.cache.cronJob(Key(namespace, cronJob))
	if err != nil {
		return nil, fmt.Errorf("CronJob/%s/%s: trigger: %w", namespace, cronJob, err)
	}
	if cj == nil {
		return nil, fmt.Errorf("CronJob/%s/%s: %w", namespace, cronJob, ErrNotFound)
	}
	name := cronJob + "-manual-" + rand.String(3)
	for e.cache.hasJob(Key(namespace, name)) {
		name = cronJob + "-manual-" + rand.String(3)
	}
	b := e.newBatch(e.clock.Now())
	j := jobFromCronJob(cj, name, b.now)
	delete(j.Annotations, batchv1.CronJobScheduledTimestampAnnotation)
	j.Annotations = setMap(j.Annotations, AnnotationInstantiate, "manual")
	j = e.createJob(b, j)
	b.event(KindCronJob, namespace, cronJob, EventNormal, ReasonSuccessfulCreate, "Created job "+name+" (manual trigger)")
	if err := e.commit(b); err != nil {
		return nil, fmt.Errorf("CronJob/%s/%s: trigger: %w", namespace, cronJob, err)
	}
	e.observeStarted(namespace, cronJob, name, time.Time{}, b.now)
	e.poke()
	return j.DeepCopy(), nil
}

// Suspend sets a local suspend (true) or resume (false) override on a
// CronJob. It wins over Git's spec.suspend until Git changes spec.suspend
// itself. Runs missed while suspended count as missed after the resume
// (docs/batch-semantics.md#missed-runs): without startingDeadlineSeconds the latest one runs at once.
func (e *Engine) Suspend(namespace, cronJob string, suspend bool) error {
	if e.opts.ReadOnly {
		return fmt.Errorf("CronJob/%s/%s: suspend: %w", namespace, cronJob, ErrReadOnly)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	key := Key(namespace, cronJob)
	cj, err := e.cache.cronJob(key)
	if err != nil {
		return fmt.Errorf("CronJob/%s/%s: suspend: %w", namespace, cronJob, err)
	}
	if cj == nil {
		return fmt.Errorf("CronJob/%s/%s: %w", namespace, cronJob, ErrNotFound)
	}
	b := e.newBatch(e.clock.Now())
	ov, had := e.cache.overrides[key]
	git := ptr.Deref(cj.Spec.Suspend, false)
	if had {
		git = ov.GitSuspend
	}
	e.cache.overrides[key] = Override{Suspend: suspend, GitSuspend: git, Time: b.now}
	b.mark(KindOverride, key)
	cj.Spec.Suspend = ptr.To(suspend)
	e.putCronJob(b, cj)
	b.event(KindCronJob, namespace, cronJob, EventNormal, ReasonOverride, fmt.Sprintf("suspend set to %t locally (Git has %t)", suspend, git))
	e.queue.add(cronJobQueueKey(key), b.now)
	if err := e.commit(b); err != nil {
		return fmt.Errorf("CronJob/%s/%s: suspend: %w", namespace, cronJob, err)
	}
	e.poke()
	return nil
}

// Events returns the recorded events of one object (kind KindCronJob,
// KindJob or KindPod), oldest first.
func (e *Engine) Events(kind Kind, namespace, name string) ([]Event, error) {
	var evs []Event
	err := e.store.View(func(tx *Tx) error {
		var err error
		evs, err = tx.Events(EventKey(kind, namespace, name))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s/%s/%s: events: %w", kind, namespace, name, err)
	}
	return evs, nil
}

// LogPaths returns the log file of each container (init containers too) of a
// pod, by container name, as Options.LogPath names them. The files exist
// once the container started.
func (e *Engine) LogPaths(namespace, pod string) (map[string]string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p := e.cache.pods[Key(namespace, pod)]
	if p == nil {
		var stored corev1.Pod
		var ok bool
		err := e.store.View(func(tx *Tx) error {
			var err error
			ok, err = tx.Get(KindPod, Key(namespace, pod), &stored)
			return err
		})
		if err != nil || !ok {
			return nil, errors.Join(fmt.Errorf("Pod/%s/%s: %w", namespace, pod, ErrNotFound), err)
		}
		p = &stored
	}
	if e.opts.LogPath == nil {
		return nil, fmt.Errorf("Pod/%s/%s: no log layout configured (Options.LogPath)", namespace, pod)
	}
	out := map[string]string{}
	for _, list := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
		for _, c := range list {
			out[c.Name] = e.opts.LogPath(namespace, pod, c.Name)
		}
	}
	return out, nil
}
