package schedule

import (
	"errors"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		spec  string
		ok    bool
		tzErr bool
	}{
		{spec: "@every 5m", ok: true},
		{spec: "@every 0s", ok: true},
		{spec: "0 0 31 2 *", ok: true},
		{spec: "0 0 ? * MON-FRI", ok: true},
		{spec: "@HOURLY"},
		{spec: "@reboot"},
		{spec: "0 0 * * 7"},
		{spec: "0 0 L * *"},
		{spec: "*/0 * * * *"},
		{spec: "0 * * * * *"},
		{spec: ""},
		{spec: "TZ=UTC * * * * *", tzErr: true},
		{spec: "CRON_TZ=UTC 0 * * * *", tzErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			s, err := Parse(tc.spec)
			if tc.ok != (err == nil) {
				t.Fatalf("Parse(%q) error = %v, want ok=%v", tc.spec, err, tc.ok)
			}
			if tc.ok && s == nil {
				t.Fatal("nil schedule without error")
			}
			if got := errors.Is(err, ErrTZInSchedule); got != tc.tzErr {
				t.Fatalf("errors.Is(err, ErrTZInSchedule) = %v, want %v (err %v)", got, tc.tzErr, err)
			}
		})
	}
}

func TestValidateTimeZone(t *testing.T) {
	tests := []struct {
		tz string
		ok bool
	}{
		{"Asia/Seoul", true}, {"Etc/GMT+5", true}, {"UTC", true},
		{"Mars/Base", false}, {"", false}, {"Local", false}, {"local", false},
		{"utc", false}, {"+09:00", false}, {"../etc", false}, {"-Foo", false},
	}
	for _, tc := range tests {
		t.Run(tc.tz, func(t *testing.T) {
			if err := ValidateTimeZone(tc.tz); (err == nil) != tc.ok {
				t.Fatalf("ValidateTimeZone(%q) = %v, want ok=%v", tc.tz, err, tc.ok)
			}
		})
	}
}

// FuzzParse checks that no schedule string panics or yields a schedule that
// misbehaves in the helpers built on it.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"* * * * *", "0 0 31 2 *", "@every 1h", "@every -1s", "*/0 * * * *",
		"0-59/61 * * * *", "TZ=UTC * * * * *", "59-0 * * * *", "1-2-3 * * * *", "@every 1000000h", "? ? ? ? ?"} {
		f.Add(s)
	}
	from := time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := Parse(spec)
		if err != nil {
			if s != nil {
				t.Fatalf("Parse(%q) returned a schedule and an error", spec)
			}
			return
		}
		NeverFires(s)
		NextN(s, ny, from, 3)
		IntervalBelow(s, ny, from, 48*time.Hour, time.Minute, 200)
		DSTIssues(s, ny, from, 365*24*time.Hour)
		if _, err := MostRecentUnmet(s, ny, from, nil, nil, from.Add(200*time.Hour)); err != nil && !errors.Is(err, ErrScheduleTooClose) {
			t.Fatalf("MostRecentUnmet(%q): %v", spec, err)
		}
	})
}
