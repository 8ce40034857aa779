package embedded

import (
	"time"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"

	"github.com/jobsync/jobsync/schedule"
)

// nextScheduleDelta pads the requeue after a fire time, as upstream does,
// against small clock skews.
const nextScheduleDelta = 100 * time.Millisecond

// mostRecentScheduleTime finds the most recent unmet fire time of cj at now
// with package schedule (the upstream controller's algorithm). now must be
// in the CronJob's zone. With withDeadline, the search never starts before
// now − startingDeadlineSeconds.
func mostRecentScheduleTime(cj *batchv1.CronJob, now time.Time, sched cron.Schedule, withDeadline bool) (schedule.Unmet, error) {
	var last *time.Time
	if cj.Status.LastScheduleTime != nil {
		t := cj.Status.LastScheduleTime.Time
		last = &t
	}
	var sds *int64
	if withDeadline {
		sds = cj.Spec.StartingDeadlineSeconds
	}
	return schedule.MostRecentUnmet(sched, now.Location(), cj.CreationTimestamp.Time, last, sds, now)
}

// nextRequeue returns when the CronJob should be synced again: the fire time
// after the most recent one (ignoring startingDeadlineSeconds), plus the
// padding. ok is false when the schedule never fires again.
func nextRequeue(cj *batchv1.CronJob, now time.Time, sched cron.Schedule) (time.Time, bool) {
	u, err := mostRecentScheduleTime(cj, now, sched, false)
	from := u.Time
	switch {
	case err != nil:
		from = now
	case from.IsZero() && u.Missed == 0:
		from = u.Earliest
	case from.IsZero():
		from = now
	}
	next := schedule.Next(sched, now.Location(), from)
	if next.IsZero() {
		return time.Time{}, false
	}
	return next.Add(nextScheduleDelta), true
}
