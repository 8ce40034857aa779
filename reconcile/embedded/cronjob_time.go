package embedded

import (
	"errors"
	"time"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
)

// TODO(schedule): switch to schedule.MostRecentUnmet / schedule.Next once
// package schedule has them; this is the same algorithm as the upstream
// CronJob controller (pkg/controller/cronjob/utils.go).

// nextScheduleDelta pads the requeue after a fire time, as upstream does,
// against small clock skews.
const nextScheduleDelta = 100 * time.Millisecond

// tooManyMissed is the count of missed start times above which the
// controller emits TooManyMissedTimes (and still runs the latest one).
const tooManyMissed = 100

// errBadSchedule is returned for a schedule that parses but never fires
// sensibly (two fire times less than a second apart, or none in 5 years).
var errBadSchedule = errors.New("time difference between two schedules is less than 1 second")

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

// mostRecentScheduleTime finds the most recent unmet fire time of cj at now.
// now must be in the CronJob's zone (the schedule is evaluated in now's
// location). With withDeadline, the search never starts before now −
// startingDeadlineSeconds.
func mostRecentScheduleTime(cj *batchv1.CronJob, now time.Time, sched cron.Schedule, withDeadline bool) (unmet, error) {
	earliest := cj.CreationTimestamp.Time
	if cj.Status.LastScheduleTime != nil {
		earliest = cj.Status.LastScheduleTime.Time
	}
	if withDeadline && cj.Spec.StartingDeadlineSeconds != nil {
		if d := now.Add(-time.Duration(*cj.Spec.StartingDeadlineSeconds) * time.Second); d.After(earliest) {
			earliest = d
		}
	}
	earliest = earliest.In(now.Location())
	res := unmet{earliest: earliest}
	t1 := sched.Next(earliest)
	if t1.IsZero() {
		return res, errBadSchedule
	}
	t2 := sched.Next(t1)
	if now.Before(t1) {
		return res, nil
	}
	if now.Before(t2) {
		res.recent, res.missed = t1, 1
		return res, nil
	}
	between := int64(t2.Sub(t1).Round(time.Second).Seconds())
	if between < 1 {
		return res, errBadSchedule
	}
	res.missed = int64(now.Sub(t1).Seconds())/between + 1
	// Start one interval before the estimated earliest missed time and walk
	// forward: exact for regular schedules and @every, correct for uneven ones.
	from := t1.Add(time.Duration((res.missed-2)*between) * time.Second)
	for t := sched.Next(from); !t.IsZero() && !t.After(now); t = sched.Next(t) {
		res.recent = t
	}
	return res, nil
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
