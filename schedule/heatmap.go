package schedule

import (
	"math/bits"
	"time"

	"github.com/robfig/cron/v3"
)

// HeatEntry is one CronJob of a heat map: its parsed schedule and its zone.
type HeatEntry struct {
	Sched cron.Schedule
	// Loc is the CronJob's spec.timeZone (UTC when nil).
	Loc *time.Location
}

// Heatmap counts the runs that start in each weekday × hour of one week, on
// the wall clock of a display zone.
type Heatmap struct {
	// Start is the Monday 00:00 that opens the week, in Zone; the week ends
	// seven calendar days later (167 or 169 hours across a transition).
	Start time.Time
	Zone  *time.Location
	// Runs[d][h] is the number of runs starting on weekday d (0 = Monday)
	// between h:00 and h:59 on Zone's wall clock.
	Runs [7][24]int
	// Entries[d][h] are the indexes, ascending, of the entries with at least
	// one run in that cell.
	Entries [7][24][]int
	// Total is the sum of Runs.
	Total int
}

// Max is the largest cell of h.
func (h *Heatmap) Max() int {
	m := 0
	for d := range h.Runs {
		for _, n := range h.Runs[d] {
			m = max(m, n)
		}
	}
	return m
}

// Min is the smallest non-empty cell of h (0 when every cell is empty).
func (h *Heatmap) Min() int {
	m := 0
	for d := range h.Runs {
		for _, n := range h.Runs[d] {
			if n > 0 && (m == 0 || n < m) {
				m = n
			}
		}
	}
	return m
}

// WeekStart returns the Monday 00:00, on zone's wall clock, of the week that
// holds t.
func WeekStart(t time.Time, zone *time.Location) time.Time {
	t = t.In(zone)
	back := (int(t.Weekday()) + 6) % 7 // days since Monday
	return time.Date(t.Year(), t.Month(), t.Day()-back, 0, 0, 0, 0, zone)
}

// WeekHeatmap returns the heat map of entries for the week that holds t, in
// zone (UTC when nil). Each entry's fire times are those of robfig/cron v3 in
// the entry's own zone, as the CronJob controller starts them: a wall time a
// spring-forward skips gets no run, one a fall-back repeats gets two. Entries
// with a nil schedule are left out.
func WeekHeatmap(entries []HeatEntry, t time.Time, zone *time.Location) *Heatmap {
	if zone == nil {
		zone = time.UTC
	}
	start := WeekStart(t, zone)
	end := time.Date(start.Year(), start.Month(), start.Day()+7, 0, 0, 0, 0, zone)
	h := &Heatmap{Start: start, Zone: zone}
	for i, e := range entries {
		if e.Sched == nil {
			continue
		}
		h.addEntry(i, e, start, end)
	}
	return h
}

// addEntry adds the fire times of entry i in [start, end).
func (h *Heatmap) addEntry(i int, e HeatEntry, start, end time.Time) {
	spec, fiveField := e.Sched.(*cron.SpecSchedule)
	fiveField = fiveField && spec.Second == 1
	for t := Next(e.Sched, e.Loc, start.Add(-time.Nanosecond)); !t.IsZero() && t.Before(end); {
		if !fiveField {
			h.add(i, t)
			t = Next(e.Sched, e.Loc, t)
			continue
		}
		t = h.addHour(i, spec, e.Loc, t, end)
	}
}

// addHour adds t and the later fire times of spec in the same wall-clock hour
// of loc, and returns the next fire time after them. Within an hour that no
// offset transition touches, a five-field schedule fires at every minute of
// its minute field (the hour, day and month fields are the same for the whole
// hour), so those need no robfig/cron walk; an hour with a transition takes
// the walk, which is what decides what runs there.
func (h *Heatmap) addHour(i int, spec *cron.SpecSchedule, loc *time.Location, t, end time.Time) time.Time {
	hourStart := t.Add(-time.Duration(t.Minute()) * time.Minute)
	_, off := t.Zone()
	_, offStart := hourStart.Zone()
	_, offEnd := hourStart.Add(time.Hour).Zone()
	if off != offStart || off != offEnd {
		h.add(i, t)
		return Next(spec, loc, t)
	}
	last := t
	for mins := spec.Minute >> uint(t.Minute()) << uint(t.Minute()); mins != 0; mins &= mins - 1 {
		m := bits.TrailingZeros64(mins)
		if m >= 60 {
			break
		}
		ft := hourStart.Add(time.Duration(m) * time.Minute)
		if !ft.Before(end) {
			return time.Time{}
		}
		h.add(i, ft)
		last = ft
	}
	return Next(spec, loc, last)
}

// add counts a run of entry i at t.
func (h *Heatmap) add(i int, t time.Time) {
	w := t.In(h.Zone)
	d, hr := (int(w.Weekday())+6)%7, w.Hour()
	h.Runs[d][hr]++
	h.Total++
	if es := h.Entries[d][hr]; len(es) == 0 || es[len(es)-1] != i {
		h.Entries[d][hr] = append(es, i)
	}
}
