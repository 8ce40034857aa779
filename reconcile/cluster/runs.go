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

	"github.com/jobsync/jobsync/fleet"
	"github.com/jobsync/jobsync/ledger"
	"github.com/jobsync/jobsync/reconcile"
)

// RunSink receives the runs a RunWatch sees (agent.RunRecorder). Its
// methods are called from informer handlers: they must not block.
type RunSink interface {
	Started(fleet.Run)
	Finished(fleet.Run)
}

// RunWatch feeds a run ledger from the cluster with informers (a watch,
// not polling): the sync's CronJobs (selected by its labels) and every Job
// a CronJob of the sync owns. A Job's creation is a run's start; its
// Complete or Failed condition the end, with the last failed container's
// exit code or OOMKilled read from its pods once.
type RunWatch struct {
	cs       kubernetes.Interface
	sink     RunSink
	factory  informers.SharedInformerFactory
	jobs     informers.SharedInformerFactory
	cronJobs batchlisters.CronJobLister
}

// NewRunWatch watches the CronJobs labelled for sync and their Jobs, in
// namespace ("" for every namespace: that needs a ClusterRole).
func NewRunWatch(cs kubernetes.Interface, sync, namespace string, sink RunSink) (*RunWatch, error) {
	sel := labels.SelectorFromSet(labels.Set{reconcile.LabelManagedBy: reconcile.ManagedByValue, reconcile.LabelSync: sync}).String()
	w := &RunWatch{cs: cs, sink: sink,
		factory: informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(namespace),
			informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = sel })),
		// Jobs inherit the jobTemplate's labels, not the CronJob's: they are
		// matched to the sync's CronJobs by their controller reference.
		jobs: informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(namespace))}
	cji := w.factory.Batch().V1().CronJobs()
	w.cronJobs = cji.Lister()
	cji.Informer() // registered before Start
	_, err := w.jobs.Batch().V1().Jobs().Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { w.job(obj) },
		UpdateFunc: func(_, obj any) { w.job(obj) },
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

func (w *RunWatch) job(obj any) {
	j, ok := obj.(*batchv1.Job)
	if !ok {
		return
	}
	ref := metav1.GetControllerOf(j)
	if ref == nil || ref.Kind != "CronJob" {
		return
	}
	if _, err := w.cronJobs.CronJobs(j.Namespace).Get(ref.Name); err != nil {
		return // not a CronJob of this sync
	}
	r := fleet.Run{Namespace: j.Namespace, CronJob: ref.Name, Job: j.Name, Start: j.CreationTimestamp.Time, Trigger: fleet.TriggerManual}
	if s, ok := j.Annotations[batchv1.CronJobScheduledTimestampAnnotation]; ok && j.Annotations["cronjob.kubernetes.io/instantiate"] != "manual" {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			r.Scheduled, r.Trigger = t, ledger.TriggerOf(t, r.Start)
		}
	}
	w.sink.Started(r)
	for _, c := range j.Status.Conditions {
		if c.Status != corev1.ConditionTrue || (c.Type != batchv1.JobComplete && c.Type != batchv1.JobFailed) {
			continue
		}
		r.End, r.Result, r.Reason = c.LastTransitionTime.Time, fleet.ResultSucceeded, c.Reason
		if c.Type == batchv1.JobFailed {
			r.Result = fleet.ResultFailed
			go w.finishFailed(r) // reads the pods: not in the handler
			return
		}
		w.sink.Finished(r)
	}
}

// finishFailed adds what killed the last failed container to a failed run.
func (w *RunWatch) finishFailed(r fleet.Run) {
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
