package schedule

import (
	"testing"
	"time"

	"github.com/robfig/cron/v3"
)

func mustParse(t testing.TB, spec string) cron.Schedule {
	t.Helper()
	s, err := Parse(spec)
	if err != nil {
		t.Fatalf("Parse(%q): %v", spec, err)
	}
	return s
}

func mustLoc(t testing.TB, tz string) *time.Location {
	t.Helper()
	loc, err := LoadLocation(&tz)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", tz, err)
	}
	return loc
}

func TestNext(t *testing.T) {
	after := time.Date(2026, time.March, 7, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		spec  string
		tz    string
		after time.Time
		want  string // RFC 3339 in the zone; "" for the zero time
	}{
		{name: "every minute", spec: "* * * * *", tz: "UTC", after: after, want: "2026-03-07T12:01:00Z"},
		{name: "strictly after", spec: "0 12 * * *", tz: "UTC", after: after, want: "2026-03-08T12:00:00Z"},
		{name: "in zone", spec: "0 9 * * *", tz: "Asia/Seoul", after: after, want: "2026-03-08T09:00:00+09:00"},
		{name: "nil location is UTC", spec: "0 9 * * *", tz: "", after: after, want: "2026-03-08T09:00:00Z"},
		{name: "dom or dow", spec: "0 0 13 * 5", tz: "UTC", after: after, want: "2026-03-13T00:00:00Z"},
		{name: "every", spec: "@every 90s", tz: "UTC", after: after, want: "2026-03-07T12:01:30Z"},
		{name: "dst gap skipped", spec: "30 2 * * *", tz: "America/New_York", after: time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC), want: "2026-03-09T02:30:00-04:00"},
		{name: "never", spec: "0 0 31 2 *", tz: "UTC", after: after, want: ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var loc *time.Location
			if tc.tz != "" {
				loc = mustLoc(t, tc.tz)
			}
			got := Next(mustParse(t, tc.spec), loc, tc.after)
			if tc.want == "" {
				if !got.IsZero() {
					t.Fatalf("Next = %v, want zero", got)
				}
				return
			}
			if s := got.Format(time.RFC3339); s != tc.want {
				t.Fatalf("Next = %s, want %s", s, tc.want)
			}
		})
	}
}

func TestNextN(t *testing.T) {
	after := time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		spec string
		n    int
		want []string
	}{
		{name: "three", spec: "0 */6 * * *", n: 3, want: []string{"2026-01-01T06:00:00Z", "2026-01-01T12:00:00Z", "2026-01-01T18:00:00Z"}},
		{name: "zero", spec: "* * * * *", n: 0, want: nil},
		{name: "negative", spec: "* * * * *", n: -1, want: nil},
		{name: "never stops early", spec: "0 0 30 2 *", n: 5, want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := NextN(mustParse(t, tc.spec), time.UTC, after, tc.n)
			if len(got) != len(tc.want) {
				t.Fatalf("NextN = %v, want %v", got, tc.want)
			}
			for i := range got {
				if s := got[i].Format(time.RFC3339); s != tc.want[i] {
					t.Errorf("NextN[%d] = %s, want %s", i, s, tc.want[i])
				}
			}
		})
	}
}

func TestNeverFires(t *testing.T) {
	tests := []struct {
		spec string
		want bool
	}{
		{spec: "0 0 31 2 *", want: true},
		{spec: "0 0 30 2 *", want: true},
		{spec: "59 23 31 4 *", want: true},
		{spec: "0 0 29 2 *", want: false},
		{spec: "0 0 31 2 1", want: false}, // dom or dow: Mondays in February
		{spec: "0 0 31 * *", want: false},
		{spec: "@every 5m", want: false},
		{spec: "@yearly", want: false},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			if got := NeverFires(mustParse(t, tc.spec)); got != tc.want {
				t.Fatalf("NeverFires(%q) = %v, want %v", tc.spec, got, tc.want)
			}
		})
	}
}

func TestMinInterval(t *testing.T) {
	from := time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	year := 366 * 24 * time.Hour
	tests := []struct {
		name   string
		spec   string
		tz     string
		window time.Duration
		want   time.Duration
		ok     bool
	}{
		{name: "every minute", spec: "* * * * *", tz: "UTC", window: time.Hour, want: time.Minute, ok: true},
		{name: "uneven minutes", spec: "0,10,15 * * * *", tz: "UTC", window: 3 * time.Hour, want: 5 * time.Minute, ok: true},
		{name: "across midnight", spec: "0,59 0,23 * * *", tz: "UTC", window: 3 * 24 * time.Hour, want: time.Minute, ok: true},
		{name: "every", spec: "@every 7m", tz: "UTC", window: time.Hour, want: 7 * time.Minute, ok: true},
		{name: "daily", spec: "0 4 * * *", tz: "UTC", window: 30 * 24 * time.Hour, want: 24 * time.Hour, ok: true},
		{name: "daily over dst is 23h", spec: "0 4 * * *", tz: "Europe/Berlin", window: year, want: 23 * time.Hour, ok: true},
		{name: "fall back doubles a run", spec: "30 2 * * *", tz: "Europe/Berlin", window: year, want: time.Hour, ok: true},
		{name: "once in window", spec: "0 0 1 1 *", tz: "UTC", window: year, ok: false},
		{name: "never", spec: "0 0 31 2 *", tz: "UTC", window: year, ok: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := MinInterval(mustParse(t, tc.spec), mustLoc(t, tc.tz), from, tc.window)
			if ok != tc.ok || got != tc.want {
				t.Fatalf("MinInterval = %v, %v; want %v, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestIntervalBelow(t *testing.T) {
	from := time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		spec  string
		limit time.Duration
		below bool
	}{
		{name: "every minute below 5m", spec: "* * * * *", limit: 5 * time.Minute, below: true},
		{name: "every 5m not below 5m", spec: "*/5 * * * *", limit: 5 * time.Minute, below: false},
		{name: "uneven list below", spec: "0,2 * * * *", limit: 5 * time.Minute, below: true},
		{name: "every 30s", spec: "@every 30s", limit: time.Minute, below: true},
		{name: "hourly", spec: "@hourly", limit: 5 * time.Minute, below: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, below := IntervalBelow(mustParse(t, tc.spec), time.UTC, from, 31*24*time.Hour, tc.limit, 5000)
			if below != tc.below {
				t.Fatalf("IntervalBelow = %v, want %v", below, tc.below)
			}
		})
	}
}

func BenchmarkIntervalBelowEvery5m(b *testing.B) {
	s := mustParse(b, "*/5 * * * *")
	from := time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		IntervalBelow(s, time.UTC, from, 31*24*time.Hour, 5*time.Minute, 2000)
	}
}

// TestNextMatchesRobfig checks Next's fast path against robfig/cron itself
// on many schedules, zones and start times (including odd seconds).
func TestNextMatchesRobfig(t *testing.T) {
	specs := []string{"* * * * *", "*/7 * * * *", "0,59 0,23 * * *", "30 2 * * *", "30 1 * * 0", "0 0 13 * 5", "15 */3 1-7 * 1"}
	zones := []string{"UTC", "America/New_York", "Australia/Lord_Howe", "America/Santiago", "Asia/Kolkata"}
	starts := []time.Time{
		time.Date(2026, 3, 8, 6, 59, 59, 999, time.UTC),
		time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC),
		time.Date(2026, 4, 4, 14, 44, 31, 5, time.UTC),
		time.Date(2026, 9, 6, 3, 0, 0, 0, time.UTC),
	}
	for _, spec := range specs {
		for _, tz := range zones {
			sched, loc := mustParse(t, spec), mustLoc(t, tz)
			for _, s := range starts {
				want, got := s.In(loc), s
				for i := 0; i < 300; i++ {
					want = sched.Next(want)
					got = Next(sched, loc, got)
					if !got.Equal(want) {
						t.Fatalf("%s in %s from %v: step %d: Next = %v, robfig = %v", spec, tz, s, i, got, want)
					}
				}
			}
		}
	}
}
