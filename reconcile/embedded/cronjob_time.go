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

// unmet is the result of mostRecentScheduleTime.
type unmet struct {
	// earliest is where the search started (lastScheduleTime, creation
	// time, or now − startingDeadlineSeconds).
	earliest time.Time
	// recent is the latest fire time ≤ now after earliest; zero when none.
	recent time.Time
	// missed counts the fire times between earliest and now (approximately,
	// as upstream counts them).
	missed int64
}

// mostRecentScheduleTime finds the most recent unmet fire time of cj at now
// with package schedule (the upstream controller's algorithm). now must be
// in the CronJob's zone. With withDeadline, the search never starts before
// now − startingDeadlineSeconds.
func mostRecentScheduleTime(cj *batchv1.CronJob, now time.Time, sched cron.Schedule, withDeadline bool) (unmet, error) {
	var last *time.Time
	if cj.Status.LastScheduleTime != nil {
		t := cj.Status.LastScheduleTime.Time
		last = &t
	}
	var sds *int64
	if withDeadline {
		sds = cj.Spec.StartingDeadlineSeconds
	}
	u, err := schedule.MostRecentUnmet(sched, now.Location(), cj.CreationTimestamp.Time, last, sds, now)
	return unmet{earliest: u.Earliest.In(now.Location()), recent: u.Time, missed: u.Missed}, err
}

// nextRequeue returns when the CronJob should be synced again: the fire time
// after the most recent one (ignoring startingDeadlineSeconds), plus the
// padding. ok is false when the schedule never fires again.
func nextRequeue(cj *batchv1.CronJob, now time.Time, sched cron.Schedule) (time.Time, bool) {
	u, err := mostRecentScheduleTime(cj, now, sched, false)
	from := u.recent
	switch {
	case err != nil:
		from = now
	case from.IsZero() && u.missed == 0:
		from = u.earliest
	case from.IsZero():
		from = now
	}
	next := sched.Next(from)
	if next.IsZero() {
		return time.Time{}, false
	}
	return next.Add(nextScheduleDelta), true
}
