package schedule

import (
	"errors"
	"time"

	"github.com/robfig/cron/v3"
)

// TooManyMissed is the count of missed fire times above which the CronJob
// controller emits TooManyMissedTimes (and still starts the latest one).
const TooManyMissed = 100

// ErrScheduleTooClose is returned, as by the controller, when the next two
// fire times are less than a second apart or missing: a schedule that never
// fires ("0 0 31 2 *") gets it, and the controller reports InvalidSchedule.
var ErrScheduleTooClose = errors.New("time difference between two schedules is less than 1 second")

// Unmet is the outcome of MostRecentUnmet.
type Unmet struct {
	// Earliest is where the search started: the last schedule time (or the
	// creation time), moved up to now − startingDeadlineSeconds when that is later.
	Earliest time.Time
	// Time is the most recent fire time in (Earliest, now], in the zone; zero
	// when there is none (nothing to start).
	Time time.Time
	// Missed is the controller's estimate of the fire times in (Earliest, now]
	// (it divides the elapsed time by the gap between the first two).
	Missed int64
	// TooMany is Missed > TooManyMissed: the controller emits a
	// TooManyMissedTimes warning event, and still starts Time.
	TooMany bool
}

// MostRecentUnmet finds the fire time the CronJob controller would start now
// (mostRecentScheduleTime in the CronJob controller; docs/batch-semantics.md#missed-runs): the latest fire
// time of sched in loc after the last schedule time (lastSchedule, else
// created) and not after now; with startingDeadlineSeconds (sds, may be nil)
// the search never starts before now − sds. Missed runs are not back-filled:
// only the latest one counts.
func MostRecentUnmet(sched cron.Schedule, loc *time.Location, created time.Time, lastSchedule *time.Time, sds *int64, now time.Time) (Unmet, error) {
	if loc == nil {
		loc = time.UTC
	}
	earliest := created
	if lastSchedule != nil {
		earliest = *lastSchedule
	}
	if sds != nil {
		if d := now.Add(-time.Duration(*sds) * time.Second); d.After(earliest) {
			earliest = d
		}
	}
	u := Unmet{Earliest: earliest}
	t1 := Next(sched, loc, earliest)
	t2 := Next(sched, loc, t1)
	switch {
	case now.Before(t1):
		return u, nil
	case now.Before(t2):
		u.Time, u.Missed = t1, 1
		return u, nil
	}
	between := int64(t2.Sub(t1).Round(time.Second).Seconds())
	if between < 1 {
		return u, ErrScheduleTooClose
	}
	u.Missed = int64(now.Sub(t1).Seconds())/between + 1
	u.TooMany = u.Missed > TooManyMissed
	// Jump close to now (one interval early, for uneven schedules such as
	// "30 6-16/4 * * 1-5"), then walk to the latest fire time ≤ now.
	start := t1.Add(time.Duration((u.Missed-2)*between) * time.Second)
	for t := Next(sched, loc, start); !t.IsZero() && !t.After(now); t = Next(sched, loc, t) {
		u.Time = t
	}
	return u, nil
}
