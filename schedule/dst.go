package schedule

import (
	"fmt"
	"time"

	"github.com/robfig/cron/v3"
)

// DSTKind says which way a time-zone transition moves the wall clock.
type DSTKind string

const (
	// DSTGap is a transition that moves the clock forward: the wall times in
	// between never happen.
	DSTGap DSTKind = "gap"
	// DSTOverlap is a transition that moves the clock back: the wall times in
	// between happen twice.
	DSTOverlap DSTKind = "overlap"
)

// DSTIssue is one scheduled wall-clock time that a transition of the zone
// skips or repeats.
type DSTIssue struct {
	Kind DSTKind
	// Time is the transition instant, in the zone.
	Time time.Time
	// Wall is the scheduled wall-clock time ("2006-01-02 15:04") that does not
	// exist (gap) or happens twice (overlap).
	Wall string
	// Runs is what robfig/cron v3 (and so the CronJob controller) actually
	// starts for Wall: the instants, in the zone. Empty for a gap.
	Runs []time.Time
	// NextRun is, for a gap, the first fire time after the transition: what
	// runs instead of nothing. Zero for an overlap.
	NextRun time.Time
	// Message says what happens, in one sentence.
	Message string
}

// wallLayout formats a wall-clock time.
const wallLayout = "2006-01-02 15:04"

// maxTransitionMinutes bounds the wall-clock span examined per transition (a
// day: Pacific/Apia skipped one whole day in 2011).
const maxTransitionMinutes = 24 * 60

// DSTIssues lists the fire times of sched whose wall clock falls in a
// daylight-saving (or any other offset) transition of loc between from and
// from+horizon. robfig/cron v3, which the CronJob controller uses, walks the
// calendar hour by hour in absolute time, so:
//   - gap: a fire time whose wall clock does not exist is skipped; nothing
//     runs for it, not even later (spring forward, 02:30 in America/New_York);
//   - overlap: a fire time whose wall clock happens twice runs twice, once
//     at each offset (fall back, 01:30 in America/New_York).
//
// The issues come from replaying robfig/cron itself around each transition,
// so they say what really happens. Schedules that fire every hour of the day
// (the hour field is "*") keep their rhythm in absolute time across a
// transition and yield no issue; nor does an @every schedule.
func DSTIssues(sched cron.Schedule, loc *time.Location, from time.Time, horizon time.Duration) []DSTIssue {
	spec, ok := sched.(*cron.SpecSchedule)
	if !ok || loc == nil || everyHour(spec) {
		return nil
	}
	var out []DSTIssue
	end := from.Add(horizon)
	t := from.In(loc)
	for i := 0; i < 10000; i++ { // bound: zones change offset a few times a year
		_, zoneEnd := t.ZoneBounds()
		if zoneEnd.IsZero() || zoneEnd.After(end) {
			break
		}
		out = append(out, transitionIssues(sched, spec, loc, zoneEnd)...)
		t = zoneEnd
	}
	return out
}

// everyHour reports whether the schedule's hour field matches all 24 hours.
func everyHour(spec *cron.SpecSchedule) bool {
	const all = 1<<24 - 1
	return spec.Hour&all == all
}

// transitionIssues examines the transition at instant at.
func transitionIssues(sched cron.Schedule, spec *cron.SpecSchedule, loc *time.Location, at time.Time) []DSTIssue {
	_, before := at.Add(-time.Nanosecond).In(loc).Zone()
	_, after := at.In(loc).Zone()
	shift := time.Duration(after-before) * time.Second
	if shift == 0 {
		return nil
	}
	kind, span := DSTGap, shift
	// The affected wall clock starts where the old offset leaves it (gap) or
	// where the new offset puts it (overlap), and lasts |shift|.
	wallStart := naiveWall(at, before)
	if shift < 0 {
		kind, span = DSTOverlap, -shift
		wallStart = naiveWall(at, after)
	}
	var out []DSTIssue
	for m := 0; m < int(span/time.Minute) && m < maxTransitionMinutes; m++ {
		w := wallStart.Add(time.Duration(m) * time.Minute)
		if !wallMatches(spec, w) {
			continue
		}
		issue := DSTIssue{Kind: kind, Time: at.In(loc), Wall: w.Format(wallLayout)}
		if kind == DSTGap {
			issue.NextRun = Next(sched, loc, at.Add(-time.Second))
		} else {
			issue.Runs = runsAtWall(sched, loc, at.Add(-span-time.Minute), at.Add(span+time.Minute), w)
		}
		issue.Message = issue.describe(loc, naiveWall(at, before), naiveWall(at, after))
		out = append(out, issue)
	}
	return out
}

// naiveWall returns the wall clock of instant at under the offset (seconds
// east of UTC), as a UTC time used only for calendar arithmetic.
func naiveWall(at time.Time, offset int) time.Time {
	return at.UTC().Add(time.Duration(offset) * time.Second)
}

// wallMatches reports whether the schedule's fields match the wall-clock
// minute w (a naive UTC time), with robfig/cron's day rule: when either day
// field is a star both must match, else either may.
func wallMatches(spec *cron.SpecSchedule, w time.Time) bool {
	if spec.Second&(1<<0) == 0 || spec.Minute&(1<<uint(w.Minute())) == 0 ||
		spec.Hour&(1<<uint(w.Hour())) == 0 || spec.Month&(1<<uint(w.Month())) == 0 {
		return false
	}
	const starBit = 1 << 63
	dom := spec.Dom&(1<<uint(w.Day())) != 0
	dow := spec.Dow&(1<<uint(w.Weekday())) != 0
	if spec.Dom&starBit != 0 || spec.Dow&starBit != 0 {
		return dom && dow
	}
	return dom || dow
}

// runsAtWall returns the fire times of sched in (from, to] whose wall clock in
// loc is w (to the minute).
func runsAtWall(sched cron.Schedule, loc *time.Location, from, to, w time.Time) []time.Time {
	var out []time.Time
	for t := Next(sched, loc, from); !t.IsZero() && !t.After(to); t = Next(sched, loc, t) {
		if t.Format(wallLayout) == w.Format(wallLayout) {
			out = append(out, t)
		}
	}
	return out
}

// describe says what robfig/cron does with the issue, in one sentence.
// jumpFrom and jumpTo are the wall clocks just before and at the transition.
func (d DSTIssue) describe(loc *time.Location, jumpFrom, jumpTo time.Time) string {
	const layout = "2006-01-02 15:04 MST"
	jump := fmt.Sprintf("the clock goes from %s to %s", jumpFrom.Format("15:04"), jumpTo.Format("15:04"))
	if d.Kind == DSTGap {
		next := "it never fires again"
		if !d.NextRun.IsZero() {
			next = "the next run is " + d.NextRun.Format(layout)
		}
		return fmt.Sprintf("%s does not exist in %s (%s): robfig/cron v3, which the CronJob controller uses, skips this run and %s",
			d.Wall, loc, jump, next)
	}
	switch len(d.Runs) {
	case 0:
		return fmt.Sprintf("%s happens twice in %s (%s): robfig/cron v3 does not run it", d.Wall, loc, jump)
	case 1:
		return fmt.Sprintf("%s happens twice in %s (%s): robfig/cron v3, which the CronJob controller uses, runs it once, at %s",
			d.Wall, loc, jump, d.Runs[0].Format(layout))
	}
	return fmt.Sprintf("%s happens twice in %s (%s): robfig/cron v3, which the CronJob controller uses, runs it twice, at %s and at %s",
		d.Wall, loc, jump, d.Runs[0].Format(layout), d.Runs[len(d.Runs)-1].Format(layout))
}
