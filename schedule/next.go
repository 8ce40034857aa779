package schedule

import (
	"time"

	"github.com/robfig/cron/v3"
)

// neverFiresRef is the fixed start of NeverFires' search: the first day of a
// leap year, so that the five years robfig/cron searches hold two 29ths of
// February and the answer does not depend on the current date.
var neverFiresRef = time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)

// Next returns the first fire time of sched strictly after after, evaluated on
// the wall clock of loc (as the CronJob controller does) and expressed in loc.
// It is the zero time when sched does not fire within five years of after.
func Next(sched cron.Schedule, loc *time.Location, after time.Time) time.Time {
	if loc == nil {
		loc = time.UTC
	}
	after = after.In(loc)
	if spec, ok := sched.(*cron.SpecSchedule); ok && spec.Second == 1 {
		// Five-field schedules fire only at second 0, so nothing fires between
		// after and the last second of its minute; starting there spares
		// robfig/cron its second-by-second walk (same answer, several times
		// faster).
		after = after.Add(time.Duration(59-after.Second())*time.Second - time.Duration(after.Nanosecond()))
	}
	t := sched.Next(after)
	if t.IsZero() {
		return t
	}
	return t.In(loc)
}

// NextN returns up to n consecutive fire times of sched strictly after after,
// in loc. It stops early when sched stops firing.
func NextN(sched cron.Schedule, loc *time.Location, after time.Time, n int) []time.Time {
	out := make([]time.Time, 0, max(n, 0))
	t := after
	for range n {
		t = Next(sched, loc, t)
		if t.IsZero() {
			break
		}
		out = append(out, t)
	}
	return out
}

// NeverFires reports whether sched never fires: robfig/cron finds no fire time
// within five years (for example "0 0 31 2 *", the 31st of February). The API
// server accepts such a schedule; the controller reports InvalidSchedule at run
// time. The answer does not depend on the current date.
func NeverFires(sched cron.Schedule) bool {
	return sched.Next(neverFiresRef).IsZero()
}

// MinInterval returns the smallest gap between two consecutive fire times of
// sched in loc among those in (from, from+window], and false when sched fires
// fewer than twice in that window. A year is a good window: it holds every
// month length and both DST transitions.
func MinInterval(sched cron.Schedule, loc *time.Location, from time.Time, window time.Duration) (time.Duration, bool) {
	return minInterval(sched, loc, from, window, 0, 0)
}

// IntervalBelow reports whether two consecutive fire times of sched in loc are
// less than limit apart, and the smallest gap it saw. It is cheap enough to
// run on every CronJob: for a five-field schedule it reads the gaps within a
// day from the minute and hour fields (they are the same on every day the
// schedule fires) and samples fire times, after from for at most window and
// maxFires fires, only when the gap across midnight could be shorter. The
// wall-clock answer ignores DST overlaps, which can bring two runs closer
// (DSTIssues reports those).
func IntervalBelow(sched cron.Schedule, loc *time.Location, from time.Time, window, limit time.Duration, maxFires int) (time.Duration, bool) {
	spec, ok := sched.(*cron.SpecSchedule)
	if !ok || spec.Second != 1 {
		d, ok := minInterval(sched, loc, from, window, limit, maxFires)
		return d, ok && d < limit
	}
	intra, first, last, n := dayGaps(spec)
	if n == 0 || NeverFires(sched) {
		return 0, false
	}
	if n > 1 && intra < limit {
		return intra, true
	}
	if across := 24*time.Hour - last + first; across >= limit {
		if n == 1 {
			return across, false // at most once a day
		}
		return intra, false
	}
	d, ok := minInterval(sched, loc, from, window, limit, maxFires)
	return d, ok && d < limit
}

// dayGaps returns, for the fire times of one day of spec (minute and hour
// fields), the smallest gap between two of them, the first and last as
// offsets from midnight, and how many there are.
func dayGaps(spec *cron.SpecSchedule) (smallest, first, last time.Duration, n int) {
	for h := range 24 {
		if spec.Hour&(1<<uint(h)) == 0 {
			continue
		}
		for m := range 60 {
			if spec.Minute&(1<<uint(m)) == 0 {
				continue
			}
			t := time.Duration(h)*time.Hour + time.Duration(m)*time.Minute
			if n == 0 {
				first = t
			} else if d := t - last; n == 1 || d < smallest {
				smallest = d
			}
			last = t
			n++
		}
	}
	return smallest, first, last, n
}

// minInterval is MinInterval with an early stop at the first gap below limit
// (when limit > 0) and a cap on the number of fire times (when maxFires > 0).
func minInterval(sched cron.Schedule, loc *time.Location, from time.Time, window, limit time.Duration, maxFires int) (time.Duration, bool) {
	if cd, ok := sched.(cron.ConstantDelaySchedule); ok {
		return cd.Delay, true
	}
	end := from.Add(window)
	prev := Next(sched, loc, from)
	if prev.IsZero() || prev.After(end) {
		return 0, false
	}
	var smallest time.Duration
	found := false
	for n := 1; maxFires <= 0 || n < maxFires; n++ {
		t := Next(sched, loc, prev)
		if t.IsZero() || t.After(end) {
			break
		}
		if d := t.Sub(prev); !found || d < smallest {
			smallest, found = d, true
			if limit > 0 && d < limit {
				break
			}
		}
		prev = t
	}
	return smallest, found
}
