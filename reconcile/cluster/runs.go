package cluster

import (
	"context"
	"fmt"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	batchlisters "k8s.io/client-go/listers/batch/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/clock"

	"github.com/jobsync/jobsync/fleet"
	"github.com/jobsync/jobsync/ledger"
	"github.com/jobsync/jobsync/reconcile"
)

// RunSink receives the runs a RunWatch sees (agent.RunRecorder). Its
// methods are called from informer handlers: they must not block. A run
// is told started once per Job the informer lists or sees created (again
// after an agent restart), and finished once when it ends.
type RunSink interface {
	Started(fleet.Run)
	Finished(fleet.Run)
}

// RunWatch feeds a run ledger from the cluster with informers (a watch,
// not polling): the sync's CronJobs (selected by its labels) and every Job
// a CronJob of the sync owns. A Job's creation is a run's start; its
// Complete or Failed condition the end, with the last failed container's
// exit code or OOMKilled read from its pods once; its deletion unfinished
// the end too, Failed with reason ReasonDeleted.
type RunWatch struct {
	clock    clock.PassiveClock
	cs       kubernetes.Interface
	sink     RunSink
	factory  informers.SharedInformerFactory
	jobs     informers.SharedInformerFactory
	cronJobs batchlisters.CronJobLister
	// podReads bounds the pod lists of failed Jobs in flight (an agent
	// start lists every failed Job at once).
	podReads chan struct{}
}

// NewRunWatch watches the CronJobs labelled for sync and their Jobs, in
// namespace ("" for every namespace: that needs a ClusterRole).
func NewRunWatch(cs kubernetes.Interface, sync, namespace string, sink RunSink) (*RunWatch, error) {
	sel := labels.SelectorFromSet(labels.Set{reconcile.LabelManagedBy: reconcile.ManagedByValue, reconcile.LabelSync: sync}).String()
	w := &RunWatch{clock: clock.RealClock{}, cs: cs, sink: sink, podReads: make(chan struct{}, 4),
		factory: informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(namespace),
			informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = sel })),
		// Jobs inherit the jobTemplate's labels, not the CronJob's: they are
		// matched to the sync's CronJobs by their controller reference.
		jobs: informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(namespace))}
	cji := w.factory.Batch().V1().CronJobs()
	w.cronJobs = cji.Lister()
	cji.Informer() // registered before Start
	_, err := w.jobs.Batch().V1().Jobs().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    w.added,
		UpdateFunc: w.updated,
		DeleteFunc: w.deleted,
	})
	if err != nil {
		return nil, fmt.Errorf("cluster: run watch: %w", err)
	}
	return w, nil
}

// Run starts the informers and waits for their first list; they run until
// ctx ends.
func (w *RunWatch) Run(ctx context.Context) error {
	w.factory.Start(ctx.Done())
	for t, ok := range w.factory.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("cluster: run watch: %v not synced", t)
		}
	}
	w.jobs.Start(ctx.Done())
	for t, ok := range w.jobs.WaitForCacheSync(ctx.Done()) {
		if !ok {
			return fmt.Errorf("cluster: run watch: %v not synced", t)
		}
	}
	return nil
}

// CronJobs lists the sync's CronJobs as the informer has them.
func (w *RunWatch) CronJobs() []batchv1.CronJob {
	l, _ := w.cronJobs.List(labels.Everything())
	out := make([]batchv1.CronJob, len(l))
	for i, c := range l {
		out[i] = *c
	}
	return out
}

// ReasonDeleted ends the run of a Job deleted before it finished.
const ReasonDeleted = "Deleted"

// added tells a Job's start, and its end if it has ended (a Job the
// informer lists at start that ended while the agent was down).
func (w *RunWatch) added(obj any) {
	r, j, ok := w.runOf(obj)
	if !ok {
		return
	}
	w.sink.Started(r)
	w.finish(r, j)
}

// updated tells a Job's end on its transition to finished only: status
// updates come many times per run.
func (w *RunWatch) updated(oldObj, obj any) {
	old, ok := oldObj.(*batchv1.Job)
	if !ok || finishedCondition(old) != nil {
		return
	}
	if r, j, ok := w.runOf(obj); ok {
		w.finish(r, j)
	}
}

// deleted ends the run of a Job deleted before it finished.
func (w *RunWatch) deleted(obj any) {
	if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	r, j, ok := w.runOf(obj)
	if !ok || finishedCondition(j) != nil {
		return
	}
	r.End, r.Result, r.Reason = w.clock.Now(), fleet.ResultFailed, ReasonDeleted
	if j.DeletionTimestamp != nil {
		r.End = j.DeletionTimestamp.Time
	}
	w.sink.Finished(r)
}

// runOf is the run of a Job a CronJob of the sync controls.
func (w *RunWatch) runOf(obj any) (fleet.Run, *batchv1.Job, bool) {
	j, ok := obj.(*batchv1.Job)
	if !ok {
		return fleet.Run{}, nil, false
	}
	ref := metav1.GetControllerOf(j)
	if ref == nil || ref.Kind != "CronJob" {
		return fleet.Run{}, nil, false
	}
	if _, err := w.cronJobs.CronJobs(j.Namespace).Get(ref.Name); err != nil {
		return fleet.Run{}, nil, false // not a CronJob of this sync
	}
	r := fleet.Run{Namespace: j.Namespace, CronJob: ref.Name, Job: j.Name, Start: j.CreationTimestamp.Time, Trigger: fleet.TriggerManual}
	if s, ok := j.Annotations[batchv1.CronJobScheduledTimestampAnnotation]; ok && j.Annotations["cronjob.kubernetes.io/instantiate"] != "manual" {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			r.Scheduled, r.Trigger = t, ledger.TriggerOf(t, r.Start)
		}
	}
	return r, j, true
}

// finishedCondition is a Job's true Complete or Failed condition, or nil.
func finishedCondition(j *batchv1.Job) *batchv1.JobCondition {
	for i, c := range j.Status.Conditions {
		if c.Status == corev1.ConditionTrue && (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) {
			return &j.Status.Conditions[i]
		}
	}
	return nil
}

// finish tells the end of a finished Job's run (nothing if it runs).
func (w *RunWatch) finish(r fleet.Run, j *batchv1.Job) {
	c := finishedCondition(j)
	if c == nil {
		return
	}
	r.End, r.Result, r.Reason = c.LastTransitionTime.Time, fleet.ResultSucceeded, c.Reason
	if c.Type == batchv1.JobFailed {
		r.Result = fleet.ResultFailed
		go w.finishFailed(r) // reads the pods: not in the handler
		return
	}
	w.sink.Finished(r)
}

// finishFailed adds what killed the last failed container to a failed run.
func (w *RunWatch) finishFailed(r fleet.Run) {
	w.podReads <- struct{}{}
	defer func() { <-w.podReads }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pods, err := w.cs.CoreV1().Pods(r.Namespace).List(ctx, metav1.ListOptions{LabelSelector: batchv1.JobNameLabel + "=" + r.Job})
	if err == nil {
		var last *corev1.ContainerStateTerminated
		for _, p := range pods.Items {
			for _, cs := range p.Status.ContainerStatuses {
				if t := cs.State.Terminated; t != nil && t.ExitCode != 0 && (last == nil || !t.FinishedAt.Before(&last.FinishedAt)) {
					last = t
				}
			}
		}
		if last != nil {
			r.Reason = ledger.FailureReason(r.Reason, last.ExitCode, last.Reason == "OOMKilled")
		}
	}
	w.sink.Finished(r)
}
