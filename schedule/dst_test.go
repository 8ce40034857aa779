package schedule

import (
	"strings"
	"testing"
	"time"
)

func TestDSTIssues(t *testing.T) {
	year2026 := time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	year := 365 * 24 * time.Hour
	type want struct {
		kind    DSTKind
		wall    string
		runs    int
		nextRun string // RFC 3339, gaps only
		message string // substring
	}
	tests := []struct {
		name string
		spec string
		tz   string
		want []want
	}{
		{
			name: "new york gap skips 02:30",
			spec: "30 2 * * *", tz: "America/New_York",
			want: []want{
				{kind: DSTGap, wall: "2026-03-08 02:30", nextRun: "2026-03-09T02:30:00-04:00", message: "(the clock goes from 02:00 to 03:00): robfig/cron v3, which the CronJob controller uses, skips this run and the next run is 2026-03-09 02:30 EDT"},
			},
		},
		{
			name: "new york overlap runs 01:30 twice",
			spec: "30 1 * * *", tz: "America/New_York",
			want: []want{{kind: DSTOverlap, wall: "2026-11-01 01:30", runs: 2, message: "(the clock goes from 02:00 to 01:00): robfig/cron v3, which the CronJob controller uses, runs it twice, at 2026-11-01 01:30 EDT and at 2026-11-01 01:30 EST"}},
		},
		{
			name: "berlin both",
			spec: "15 2 * * 0", tz: "Europe/Berlin",
			want: []want{
				{kind: DSTGap, wall: "2026-03-29 02:15", nextRun: "2026-04-05T02:15:00+02:00"},
				{kind: DSTOverlap, wall: "2026-10-25 02:15", runs: 2},
			},
		},
		{
			name: "two slots in one gap",
			spec: "0,30 2 8 3 *", tz: "America/New_York",
			want: []want{
				{kind: DSTGap, wall: "2026-03-08 02:00"},
				{kind: DSTGap, wall: "2026-03-08 02:30", message: "the next run is 2027-03-08 02:00 EST"},
			},
		},
		{
			name: "santiago midnight gap",
			spec: "0 0 * * *", tz: "America/Santiago",
			want: []want{{kind: DSTGap, wall: "2026-09-06 00:00", nextRun: "2026-09-07T00:00:00-03:00"}},
		},
		{
			name: "lord howe half-hour overlap",
			spec: "45 1 * * *", tz: "Australia/Lord_Howe",
			want: []want{{kind: DSTOverlap, wall: "2026-04-05 01:45", runs: 2}},
		},
		{name: "outside transitions", spec: "0 4 * * *", tz: "America/New_York"},
		{name: "utc has none", spec: "30 2 * * *", tz: "UTC"},
		{name: "no dst zone", spec: "30 2 * * *", tz: "Asia/Seoul"},
		{name: "every hour keeps rhythm", spec: "30 * * * *", tz: "America/New_York"},
		{name: "every schedule", spec: "@every 1h", tz: "America/New_York"},
		{name: "other day", spec: "30 2 * * 1", tz: "America/New_York"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := DSTIssues(mustParse(t, tc.spec), mustLoc(t, tc.tz), year2026, year)
			if len(got) != len(tc.want) {
				t.Fatalf("DSTIssues = %d issues %+v, want %d", len(got), got, len(tc.want))
			}
			for i, w := range tc.want {
				g := got[i]
				if g.Kind != w.kind || g.Wall != w.wall {
					t.Errorf("issue %d = %s %s, want %s %s", i, g.Kind, g.Wall, w.kind, w.wall)
				}
				if g.Kind == DSTOverlap && len(g.Runs) != w.runs {
					t.Errorf("issue %d runs = %v, want %d", i, g.Runs, w.runs)
				}
				if w.nextRun != "" && g.NextRun.Format(time.RFC3339) != w.nextRun {
					t.Errorf("issue %d next run = %s, want %s", i, g.NextRun.Format(time.RFC3339), w.nextRun)
				}
				if !strings.Contains(g.Message, w.message) {
					t.Errorf("issue %d message = %q, want it to contain %q", i, g.Message, w.message)
				}
			}
		})
	}
}

// TestDSTIssuesMatchRobfig replays each reported gap and overlap against
// robfig/cron directly: a gap's wall time is never a fire time, and an
// overlap's runs are exactly the fire times with that wall clock.
func TestDSTIssuesMatchRobfig(t *testing.T) {
	from := time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ spec, tz string }{
		{"*/20 1-3 * * *", "America/New_York"},
		{"30 1 * * *", "Europe/London"},
		{"45 1,2 * * *", "Australia/Lord_Howe"},
	} {
		t.Run(tc.spec+" "+tc.tz, func(t *testing.T) {
			sched, loc := mustParse(t, tc.spec), mustLoc(t, tc.tz)
			issues := DSTIssues(sched, loc, from, 365*24*time.Hour)
			if len(issues) == 0 {
				t.Fatal("no issues found")
			}
			fires := map[string]int{}
			end := from.Add(366 * 24 * time.Hour)
			for f := Next(sched, loc, from); !f.IsZero() && f.Before(end); f = Next(sched, loc, f) {
				fires[f.Format(wallLayout)]++
			}
			for _, is := range issues {
				switch is.Kind {
				case DSTGap:
					if fires[is.Wall] != 0 {
						t.Errorf("gap %s fired %d times", is.Wall, fires[is.Wall])
					}
				case DSTOverlap:
					if fires[is.Wall] != len(is.Runs) {
						t.Errorf("overlap %s fired %d times, issue says %d", is.Wall, fires[is.Wall], len(is.Runs))
					}
				}
			}
		})
	}
}
