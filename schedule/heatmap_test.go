package schedule

import (
	"testing"
	"time"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustEntry(t *testing.T, spec, zone string) HeatEntry {
	t.Helper()
	s, err := Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	return HeatEntry{Sched: s, Loc: mustZone(t, zone)}
}

// cell is one non-empty cell of a heat map.
type cell struct{ day, hour, runs int }

func cells(h *Heatmap) []cell {
	var out []cell
	for d := range h.Runs {
		for hr, n := range h.Runs[d] {
			if n > 0 {
				out = append(out, cell{d, hr, n})
			}
		}
	}
	return out
}

func TestWeekHeatmapDST(t *testing.T) {
	tests := []struct {
		name    string
		spec    string
		zone    string
		week    time.Time
		display string
		want    []cell
	}{
		{
			// 2027-03-14 02:30 does not exist in New York: robfig/cron (and
			// the controller) start nothing for it.
			name: "spring forward skips 02:30", spec: "30 2 * * *", zone: "America/New_York",
			week: time.Date(2027, 3, 10, 0, 0, 0, 0, time.UTC), display: "UTC",
			want: []cell{{0, 7, 1}, {1, 7, 1}, {2, 7, 1}, {3, 7, 1}, {4, 7, 1}, {5, 7, 1}},
		},
		{
			// 2027-11-07 01:30 happens twice in New York: two runs, an hour apart.
			name: "fall back runs 01:30 twice", spec: "30 1 * * *", zone: "America/New_York",
			week: time.Date(2027, 11, 5, 0, 0, 0, 0, time.UTC), display: "UTC",
			want: []cell{{0, 5, 1}, {1, 5, 1}, {2, 5, 1}, {3, 5, 1}, {4, 5, 1}, {5, 5, 1}, {6, 5, 1}, {6, 6, 1}},
		},
		{
			name: "display in the job's own zone keeps the wall hour", spec: "0 9 * * 1-5", zone: "Europe/Paris",
			week: time.Date(2027, 3, 29, 12, 0, 0, 0, time.UTC), display: "Europe/Paris",
			want: []cell{{0, 9, 1}, {1, 9, 1}, {2, 9, 1}, {3, 9, 1}, {4, 9, 1}},
		},
		{
			name: "every 15 minutes fills each hour with 4", spec: "*/15 * * * *", zone: "UTC",
			week: time.Date(2027, 1, 6, 0, 0, 0, 0, time.UTC), display: "UTC",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := WeekHeatmap([]HeatEntry{mustEntry(t, tc.spec, tc.zone)}, tc.week, mustZone(t, tc.display))
			if tc.want == nil {
				if h.Total != 7*24*4 || h.Max() != 4 {
					t.Fatalf("total %d max %d, want %d and 4", h.Total, h.Max(), 7*24*4)
				}
				return
			}
			got := cells(h)
			if len(got) != len(tc.want) {
				t.Fatalf("cells %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("cells %v, want %v", got, tc.want)
				}
			}
		})
	}
}

// TestWeekHeatmapMatchesWalk checks the hour-at-a-time shortcut against a
// plain walk of robfig/cron's fire times, across DST weeks and zones with
// half-hour offsets.
func TestWeekHeatmapMatchesWalk(t *testing.T) {
	specs := []string{"*/7 * * * *", "30 2 * * *", "0,30 1-3 * * *", "15 */2 * * 0", "@hourly", "@every 45m", "5 4 29 2 *"}
	zones := []string{"America/New_York", "Europe/London", "Asia/Kolkata", "Australia/Lord_Howe", "UTC"}
	weeks := []time.Time{
		time.Date(2027, 3, 14, 0, 0, 0, 0, time.UTC),
		time.Date(2027, 3, 28, 0, 0, 0, 0, time.UTC),
		time.Date(2027, 4, 4, 0, 0, 0, 0, time.UTC),
		time.Date(2027, 11, 7, 0, 0, 0, 0, time.UTC),
	}
	for _, spec := range specs {
		for _, zone := range zones {
			e := mustEntry(t, spec, zone)
			for _, week := range weeks {
				for _, display := range []string{"UTC", "Asia/Kolkata", "America/New_York"} {
					dz := mustZone(t, display)
					got := WeekHeatmap([]HeatEntry{e}, week, dz)
					want := &Heatmap{Start: got.Start, Zone: dz}
					end := time.Date(got.Start.Year(), got.Start.Month(), got.Start.Day()+7, 0, 0, 0, 0, dz)
					for ft := Next(e.Sched, e.Loc, got.Start.Add(-time.Nanosecond)); !ft.IsZero() && ft.Before(end); ft = Next(e.Sched, e.Loc, ft) {
						want.add(0, ft)
					}
					if got.Runs != want.Runs {
						t.Errorf("%s in %s, week of %s shown in %s: shortcut %v, walk %v", spec, zone, week.Format(time.DateOnly), display, cells(got), cells(want))
					}
				}
			}
		}
	}
}

func TestWeekHeatmapEntries(t *testing.T) {
	es := []HeatEntry{mustEntry(t, "*/5 9 * * *", "UTC"), {}, mustEntry(t, "0 9 * * 1", "UTC")}
	h := WeekHeatmap(es, time.Date(2027, 1, 6, 0, 0, 0, 0, time.UTC), nil)
	if got := h.Entries[0][9]; len(got) != 2 || got[0] != 0 || got[1] != 2 {
		t.Fatalf("Monday 09h entries %v, want [0 2]", got)
	}
	if got := h.Runs[0][9]; got != 13 {
		t.Fatalf("Monday 09h runs %d, want 13", got)
	}
	if got := h.Entries[1][9]; len(got) != 1 || got[0] != 0 {
		t.Fatalf("Tuesday 09h entries %v, want [0]", got)
	}
	if !h.Start.Equal(time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("week start %v, want Monday 2027-01-04", h.Start)
	}
}
