package schedule

import (
	"errors"
	"testing"
	"time"

	"k8s.io/utils/ptr"
)

func TestMostRecentUnmet(t *testing.T) {
	created := time.Date(2026, time.May, 1, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return created.Add(d) }
	tests := []struct {
		name     string
		spec     string
		tz       string
		last     *time.Time
		sds      *int64
		now      time.Time
		want     time.Time // zero: nothing to start
		missed   int64
		tooMany  bool
		earliest time.Time
		err      error
	}{
		{name: "not yet due", spec: "*/5 * * * *", now: at(4 * time.Minute), earliest: created},
		{name: "exactly due", spec: "*/5 * * * *", now: at(5 * time.Minute), want: at(5 * time.Minute), missed: 1, earliest: created},
		{name: "one missed", spec: "*/5 * * * *", now: at(7 * time.Minute), want: at(5 * time.Minute), missed: 1, earliest: created},
		{name: "after last schedule", spec: "*/5 * * * *", last: ptr.To(at(5 * time.Minute)), now: at(12 * time.Minute), want: at(10 * time.Minute), missed: 1, earliest: at(5 * time.Minute)},
		{name: "150 missed, no sds: warn and run the latest", spec: "* * * * *", now: at(150*time.Minute + 30*time.Second),
			want: at(150 * time.Minute), missed: 150, tooMany: true, earliest: created},
		{name: "150 missed, sds 200: latest, no warning", spec: "* * * * *", sds: ptr.To[int64](200), now: at(150*time.Minute + 30*time.Second),
			want: at(150 * time.Minute), missed: 3, earliest: at(150*time.Minute + 30*time.Second - 200*time.Second)},
		{name: "sds excludes the missed run", spec: "0 * * * *", sds: ptr.To[int64](60), now: at(30 * time.Minute).Add(time.Hour),
			earliest: at(29 * time.Minute).Add(time.Hour)},
		{name: "uneven schedule", spec: "30 6-16/4 * * 1-5", now: time.Date(2026, 5, 8, 15, 0, 0, 0, time.UTC),
			want: time.Date(2026, 5, 8, 14, 30, 0, 0, time.UTC), missed: 44, earliest: created}, // upstream's estimate: elapsed / first gap
		{name: "in zone", spec: "0 9 * * *", tz: "Asia/Seoul", now: time.Date(2026, 5, 2, 1, 0, 0, 0, time.UTC),
			want: time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC), missed: 1, earliest: created},
		{name: "never fires", spec: "0 0 31 2 *", now: at(24 * time.Hour), earliest: created, err: ErrScheduleTooClose},
		{name: "every", spec: "@every 90s", now: at(10 * time.Minute), want: at(9 * time.Minute), missed: 6, earliest: created},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var loc *time.Location
			if tc.tz != "" {
				loc = mustLoc(t, tc.tz)
			}
			u, err := MostRecentUnmet(mustParse(t, tc.spec), loc, created, tc.last, tc.sds, tc.now)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if !u.Time.Equal(tc.want) || u.Missed != tc.missed || u.TooMany != tc.tooMany || !u.Earliest.Equal(tc.earliest) {
				t.Fatalf("MostRecentUnmet = %+v; want time %v missed %d tooMany %v earliest %v", u, tc.want, tc.missed, tc.tooMany, tc.earliest)
			}
		})
	}
}
