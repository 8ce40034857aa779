package embedded

import "time"

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

func (e *Engine) observeScheduled(namespace, cronJob string, scheduled, now time.Time) {
	if e.opts.Observer != nil {
		e.opts.Observer.JobScheduled(namespace, cronJob, scheduled, now)
	}
}

func (e *Engine) observeFinished(namespace, job, result, reason string) {
	if e.opts.Observer != nil {
		e.opts.Observer.JobFinished(namespace, job, result, reason)
	}
}
