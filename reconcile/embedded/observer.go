package embedded

import (
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// Observer is told of controller outcomes as they happen, for metrics. Its
// methods are called from the controller loop with the engine's lock held:
// they must be quick and must not call back into the Engine.
type Observer interface {
	// JobScheduled: a CronJob created the Job of the run scheduled for
	// scheduled, at now (the difference is the schedule delay).
	JobScheduled(namespace, cronJob string, scheduled, now time.Time)
	// JobFinished: a Job reached its final condition; result is "Complete"
	// or "Failed", reason the condition's reason.
	JobFinished(namespace, job, result, reason string)
}

// RunObserver is what an Observer that also keeps a run ledger implements:
// every run of a CronJob (scheduled or manual) as it starts and ends, with
// the same rules as Observer's methods (quick, lock held, no call back).
type RunObserver interface {
	RunStarted(RunStart)
	RunFinished(RunEnd)
}

// RunStart is a Job of a CronJob just created.
type RunStart struct {
	Namespace, CronJob, Job string
	// Scheduled is the due time of a scheduled run; zero for a manual one.
	Scheduled time.Time
	Start     time.Time
}

// RunEnd is a Job of a CronJob that reached its final condition.
type RunEnd struct {
	Namespace, CronJob, Job string
	// Start (the Job's creation) and Scheduled (its scheduled-timestamp
	// annotation; zero for a manual run) let a ledger record a run whose
	// start it missed.
	Start, Scheduled time.Time
	End              time.Time
	Failed           bool
	// Reason is the final condition's reason (BackoffLimitExceeded,
	// DeadlineExceeded, ...).
	Reason string
	// ExitCode is the last failed container's exit code (0: none), and
	// OOMKilled whether it was killed for memory.
	ExitCode  int32
	OOMKilled bool
}

func (e *Engine) observeScheduled(namespace, cronJob string, scheduled, now time.Time) {
	if e.opts.Observer != nil {
		e.opts.Observer.JobScheduled(namespace, cronJob, scheduled, now)
	}
}

// observeStarted tells a RunObserver of a CronJob's new Job (scheduled is
// zero for a manual run).
func (e *Engine) observeStarted(namespace, cronJob, job string, scheduled, now time.Time) {
	if ro, ok := e.opts.Observer.(RunObserver); ok {
		ro.RunStarted(RunStart{Namespace: namespace, CronJob: cronJob, Job: job, Scheduled: scheduled, Start: now})
	}
}

// observeFinished tells the Observer of a Job's final condition, and a
// RunObserver too when a CronJob owns the Job.
func (e *Engine) observeFinished(s *jobState, final batchv1.JobConditionType, reason string, now time.Time) {
	job := s.job
	if e.opts.Observer == nil {
		return
	}
	e.opts.Observer.JobFinished(job.Namespace, job.Name, string(final), reason)
	ro, ok := e.opts.Observer.(RunObserver)
	if !ok {
		return
	}
	cronJob := ""
	for _, r := range job.OwnerReferences {
		if r.Controller != nil && *r.Controller && r.Kind == "CronJob" {
			cronJob = r.Name
		}
	}
	if cronJob == "" {
		return
	}
	end := RunEnd{Namespace: job.Namespace, CronJob: cronJob, Job: job.Name, End: now, Failed: final == batchv1.JobFailed, Reason: reason}
	end.Start = job.CreationTimestamp.Time
	if ts, ok := job.Annotations[batchv1.CronJobScheduledTimestampAnnotation]; ok {
		end.Scheduled, _ = time.Parse(time.RFC3339, ts)
	}
	if end.Failed {
		if cs := lastFailedContainer(s.pods); cs != nil {
			end.ExitCode, end.OOMKilled = cs.ExitCode, cs.Reason == "OOMKilled"
		}
	}
	ro.RunFinished(end)
}

// lastFailedContainer is the failed container that finished last among pods.
func lastFailedContainer(pods []*corev1.Pod) *corev1.ContainerStateTerminated {
	var last *corev1.ContainerStateTerminated
	for _, p := range pods {
		for _, cs := range p.Status.ContainerStatuses {
			t := cs.State.Terminated
			if t != nil && t.ExitCode != 0 && (last == nil || !t.FinishedAt.Before(&last.FinishedAt)) {
				last = t
			}
		}
	}
	return last
}

// GitSuspend returns Git's spec.suspend of a CronJob that has a local
// suspend override (jobsync suspend|resume), and false when it has none:
// the live spec.suspend is then Git's. It tells who suspended a CronJob.
func (e *Engine) GitSuspend(namespace, cronJob string) (suspend, overridden bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ov, ok := e.cache.overrides[Key(namespace, cronJob)]
	return ov.GitSuspend, ok
}
