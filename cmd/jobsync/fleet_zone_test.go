package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jobsync/jobsync/fleet"
)

// TestFleetTimesInTheirZone: a CronJob read over the socket (JSON: its times
// keep only an offset) still shows NEXT and why's times with its zone's name.
func TestFleetTimesInTheirZone(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	next := time.Date(2026, 11, 22, 13, 1, 0, 0, paris)
	in := fleet.CronJob{Namespace: "ns", Name: "nightly", Schedule: "1 13 * * *", TimeZone: "Europe/Paris",
		Health: fleet.Health{State: fleet.StateHealthy}, Next: next}
	raw, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var c fleet.CronJob
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	now := next.Add(-time.Hour)
	cols := fleetCols(map[string]fleet.CronJob{"ns/nightly": c}, "ns", "nightly", now)
	if !strings.Contains(cols, "2026-11-22 13:01 CET") {
		t.Errorf("get cronjobs columns %q, want NEXT 2026-11-22 13:01 CET", cols)
	}
	if got := explain(c, nil, now); !strings.Contains(got, "Next run: 2026-11-22 13:01:00 CET.") {
		t.Errorf("why: %q, want the next run in CET", got)
	}
}
