package web

import (
	"bufio"
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jobsync/jobsync/fleet"
	"github.com/jobsync/jobsync/schedule"
)

// HeatmapOf computes the heat map of crons for the week that holds t, in
// zone: suspended CronJobs and those whose schedule or time zone does not
// parse are left out (their entries are empty).
func HeatmapOf(crons []fleet.CronJob, t time.Time, zone *time.Location) *schedule.Heatmap {
	entries := make([]schedule.HeatEntry, len(crons))
	for i, c := range crons {
		if c.Suspend {
			continue
		}
		sched, err := schedule.Parse(c.Schedule)
		if err != nil {
			continue
		}
		var tz *string
		if c.TimeZone != "" {
			tz = &c.TimeZone
		}
		loc, err := schedule.LoadLocation(tz)
		if err != nil {
			continue
		}
		entries[i] = schedule.HeatEntry{Sched: sched, Loc: loc}
	}
	return schedule.WeekHeatmap(entries, t, zone)
}

// scheduleQuery is the schedule page's week, zone and chosen cell.
type scheduleQuery struct {
	Zone      *time.Location
	Week      time.Time
	Day, Hour int // -1: no cell chosen
}

// parseScheduleQuery reads ?tz=, ?week=YYYY-MM-DD and ?cell=DAY-HOUR.
func parseScheduleQuery(v url.Values, now time.Time) (scheduleQuery, error) {
	q := scheduleQuery{Zone: time.UTC, Week: now, Day: -1, Hour: -1}
	if tz := v.Get("tz"); tz != "" {
		loc, err := schedule.LoadLocation(&tz)
		if err != nil {
			return q, fmt.Errorf("tz=%q: %w", tz, err)
		}
		q.Zone = loc
	}
	if wk := v.Get("week"); wk != "" {
		t, err := time.ParseInLocation(time.DateOnly, wk, q.Zone)
		if err != nil {
			return q, fmt.Errorf("week=%q: want a date like 2027-03-08: %w", wk, err)
		}
		q.Week = t
	}
	if c := v.Get("cell"); c != "" {
		d, h, _ := strings.Cut(c, "-")
		day, err1 := strconv.Atoi(d)
		hour, err2 := strconv.Atoi(h)
		if err1 != nil || err2 != nil || day < 0 || day > 6 || hour < 0 || hour > 23 {
			return q, fmt.Errorf("cell=%q: want DAY-HOUR, day 0 (Monday) to 6, hour 0 to 23", c)
		}
		q.Day, q.Hour = day, hour
	}
	return q, nil
}

// link is the schedule page's address for q with another week or cell.
func (q scheduleQuery) link(week time.Time, day, hour int) string {
	v := url.Values{}
	v.Set("tz", q.Zone.String())
	v.Set("week", week.Format(time.DateOnly))
	if day >= 0 {
		v.Set("cell", fmt.Sprintf("%d-%d", day, hour))
	}
	return "/schedule?" + v.Encode()
}

// scheduleData is the schedule page.
type scheduleData struct {
	Zone           string
	Week           string
	SVG            template.HTML
	Prev, Next     string
	SVGHref        string
	PNGHref        string
	Total, Crons   int
	Cell           string
	CellCronJobs   []fleet.CronJob
	CellRuns       int
	HasCell        bool
	Zones          []string
	SuspendedCount int
}

// displayZones are the zones offered in the page's zone picker.
var displayZones = []string{"UTC", "America/Los_Angeles", "America/New_York", "Europe/London", "Europe/Paris", "Asia/Kolkata", "Asia/Tokyo", "Australia/Sydney"}

func (s *server) schedulePage(w http.ResponseWriter, r *http.Request) {
	q, err := parseScheduleQuery(r.URL.Query(), s.opts.Now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	crons := s.opts.View.CronJobs()
	h := HeatmapOf(crons, q.Week, q.Zone)
	var svg bytes.Buffer
	bw := bufio.NewWriter(&svg)
	writeHeatmapSVG(bw, h, func(d, hr int) string { return q.link(h.Start, d, hr) })
	_ = bw.Flush() // a bytes.Buffer does not fail
	raw := "?tz=" + url.QueryEscape(q.Zone.String()) + "&week=" + h.Start.Format(time.DateOnly)
	d := scheduleData{Zone: q.Zone.String(), Week: h.Start.Format(time.DateOnly), SVG: template.HTML(svg.String()), // built here, every text escaped
		Prev: q.link(h.Start.AddDate(0, 0, -7), -1, 0), Next: q.link(h.Start.AddDate(0, 0, 7), -1, 0),
		SVGHref: "/schedule.svg" + raw, PNGHref: "/schedule.png" + raw, Total: h.Total, Crons: len(crons), Zones: displayZones}
	for _, c := range crons {
		if c.Suspend {
			d.SuspendedCount++
		}
	}
	if q.Day >= 0 {
		d.HasCell, d.CellRuns = true, h.Runs[q.Day][q.Hour]
		d.Cell = fmt.Sprintf("%s %s %02d:00–%02d:59", weekdays[q.Day], h.Start.AddDate(0, 0, q.Day).Format(time.DateOnly), q.Hour, q.Hour)
		for _, i := range h.Entries[q.Day][q.Hour] {
			d.CellCronJobs = append(d.CellCronJobs, crons[i])
		}
	}
	s.render(w, "schedule", "schedule", d)
}

func (s *server) scheduleSVG(w http.ResponseWriter, r *http.Request) {
	if h := s.queryHeatmap(w, r); h != nil {
		w.Header().Set("Content-Type", "image/svg+xml")
		_ = WriteHeatmapSVG(w, h, nil) // the client went away; nothing to tell it
	}
}

func (s *server) schedulePNG(w http.ResponseWriter, r *http.Request) {
	if h := s.queryHeatmap(w, r); h != nil {
		w.Header().Set("Content-Type", "image/png")
		_ = WriteHeatmapPNG(w, h)
	}
}

// queryHeatmap computes the heat map the query asks for, or answers 400 and
// returns nil.
func (s *server) queryHeatmap(w http.ResponseWriter, r *http.Request) *schedule.Heatmap {
	q, err := parseScheduleQuery(r.URL.Query(), s.opts.Now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return nil
	}
	return HeatmapOf(s.opts.View.CronJobs(), q.Week, q.Zone)
}
