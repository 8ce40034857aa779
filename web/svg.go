package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/jobsync/jobsync/fleet"
)

// Sparkline geometry: one bar per run, newest on the right (stroke from
// the bottom, 16, up).
const (
	sparkBars   = 20
	sparkBarW   = 4
	sparkHeight = 16
)

// sparkline is a CronJob's last runs as SVG path data, one path per result
// (a path per colour keeps a 5,000-row page light for the browser).
type sparkline struct {
	OK, Fail, Running string
	Title             string
}

// newSparkline draws runs (oldest first) as bars whose height is the
// duration relative to the longest; a running run is a full-height bar.
func newSparkline(runs []fleet.Run) sparkline {
	if len(runs) > sparkBars {
		runs = runs[len(runs)-sparkBars:]
	}
	var longest time.Duration
	for _, r := range runs {
		longest = max(longest, r.Duration())
	}
	var ok, fail, running strings.Builder
	x := (sparkBars - len(runs)) * sparkBarW
	for _, r := range runs {
		h := sparkHeight
		if d := r.Duration(); d > 0 && longest > 0 {
			h = max(2, int(int64(sparkHeight)*int64(d)/int64(longest)))
		}
		b := &ok
		switch r.Result {
		case fleet.ResultFailed:
			b = &fail
		case fleet.ResultRunning:
			b = &running
		}
		stroke(b, x+1, sparkHeight-h)
		x += sparkBarW
	}
	sl := sparkline{OK: ok.String(), Fail: fail.String(), Running: running.String()}
	if len(runs) > 0 {
		sl.Title = strconv.Itoa(len(runs)) + " runs, longest " + human(longest)
	}
	return sl
}

// stroke appends a vertical line from the bottom up to y at x to an SVG path
// (drawn with a stroke as wide as a bar: half the bytes of a rectangle).
func stroke(b *strings.Builder, x, y int) {
	b.WriteByte('M')
	b.WriteString(strconv.Itoa(x))
	b.WriteString(" 16V")
	b.WriteString(strconv.Itoa(y))
}

// Chart geometry of the CronJob page.
const (
	chartW     = 960
	chartPadL  = 60
	laneH      = 14
	maxLanes   = 4
	durationsH = 140
)

// timelineBar is one run on the timeline: Skew is the line from its
// scheduled time to its start.
type timelineBar struct {
	X, Y, W         int
	SkewX, SkewW    int
	Class, Title    string
	Job             string
	HasSkew, Failed bool
}

// timeline is the run history of a CronJob on a time axis.
type timeline struct {
	Width, Height int
	Bars          []timelineBar
	Ticks         []tick
	From, To      time.Time
}

// tick is an axis label.
type tick struct {
	X     int
	Label string
}

// newTimeline places runs (any order) on a time axis that ends at now; runs
// that overlap go to separate lanes.
func newTimeline(runs []fleet.Run, now time.Time) timeline {
	tl := timeline{Width: chartW + 40, Height: maxLanes*laneH + 24, To: now} // room for the last tick's label
	if len(runs) == 0 {
		return tl
	}
	from := now
	for _, r := range runs {
		from = minTime(from, r.Start)
		if !r.Scheduled.IsZero() {
			from = minTime(from, r.Scheduled)
		}
	}
	span := max(now.Sub(from), time.Minute)
	from = now.Add(-span * 21 / 20) // a little room on the left
	tl.From = from
	xOf := func(t time.Time) int {
		return chartPadL + int(float64(chartW-chartPadL-10)*float64(t.Sub(from))/float64(now.Sub(from)))
	}
	laneEnd := make([]int, maxLanes)
	for i := len(runs) - 1; i >= 0; i-- { // oldest first when newest-first
		r := runs[i]
		end := r.End
		if end.IsZero() {
			end = now
		}
		x, x2 := xOf(r.Start), xOf(end)
		lane := 0
		for lane < maxLanes-1 && laneEnd[lane] > x {
			lane++
		}
		laneEnd[lane] = max(x2, x+2)
		b := timelineBar{X: x, Y: lane * laneH, W: max(x2-x, 2), Class: resultClass(r.Result), Job: r.Job,
			Title: r.Job + ": " + string(r.Result) + ", " + human(r.Duration()) + ", skew " + human(r.Skew())}
		if !r.Scheduled.IsZero() {
			b.HasSkew, b.SkewX = true, xOf(r.Scheduled)
			b.SkewW = max(x-b.SkewX, 1)
		}
		tl.Bars = append(tl.Bars, b)
	}
	used := 1
	for _, e := range laneEnd[1:] {
		if e > 0 {
			used++
		}
	}
	tl.Height = used*laneH + 24
	for i := range 5 {
		t := from.Add(now.Sub(from) * time.Duration(i) / 4)
		tl.Ticks = append(tl.Ticks, tick{X: xOf(t), Label: t.UTC().Format("01-02 15:04")})
	}
	return tl
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) && !b.IsZero() {
		return b
	}
	return a
}

// durationBar is one run of the durations chart.
type durationBar struct {
	X, Y, W, H   int
	Class, Title string
}

// durations is a bar chart of run durations, oldest on the left.
type durations struct {
	Width, Height int
	Bars          []durationBar
	Longest       string
	Base          int
}

// newDurations charts runs given newest first.
func newDurations(runs []fleet.Run) durations {
	ch := durations{Width: chartW, Height: durationsH + 20, Base: durationsH}
	var longest time.Duration
	for _, r := range runs {
		longest = max(longest, r.Duration())
	}
	ch.Longest = human(longest)
	if len(runs) == 0 {
		return ch
	}
	step := max((chartW-chartPadL-10)/len(runs), 2)
	for i := range runs {
		r := runs[len(runs)-1-i]
		h := 2
		if longest > 0 {
			h = max(2, int(int64(durationsH-4)*int64(r.Duration())/int64(longest)))
		}
		ch.Bars = append(ch.Bars, durationBar{X: chartPadL + i*step, Y: durationsH - h, W: max(step-1, 1), H: h,
			Class: resultClass(r.Result), Title: r.Job + ": " + human(r.Duration())})
	}
	return ch
}
