package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/jobsync/jobsync/fleet"
)

func testFleet() []fleet.CronJob {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	return []fleet.CronJob{
		{Namespace: "dev", Name: "backup", Schedule: "0 2 * * *", Suspend: true,
			Health: fleet.Health{State: fleet.StateSuspended, SuspendedBy: "hand"}, LastResult: fleet.ResultFailed,
			LastFailure: testNow.Add(-10 * time.Hour), LastSuccess: testNow.Add(-34 * time.Hour)},
		{Namespace: "dev", Name: "heartbeat", Schedule: "* * * * *", TimeZone: "Europe/Berlin",
			Health:     fleet.Health{State: fleet.StateMissed, Reason: string(fleet.MissAgentDown), Due: testNow.Add(-3 * time.Minute).In(berlin)},
			LastResult: fleet.ResultSucceeded, LastSuccess: testNow.Add(-4 * time.Minute), Next: testNow.Add(time.Minute).In(berlin)},
	}
}

func testRuns() map[string][]fleet.Run {
	at := func(d time.Duration) time.Time { return testNow.Add(d) }
	return map[string][]fleet.Run{
		"dev/heartbeat": {
			{Namespace: "dev", CronJob: "heartbeat", Job: "heartbeat-29398795", Trigger: fleet.TriggerScheduled, Scheduled: at(-5 * time.Minute),
				Start: at(-5*time.Minute + 1200*time.Millisecond), End: at(-4 * time.Minute), Result: fleet.ResultSucceeded},
			{Namespace: "dev", CronJob: "heartbeat", Job: "heartbeat-manual-x7k", Trigger: fleet.TriggerManual,
				Start: at(-20 * time.Minute), End: at(-19 * time.Minute), Result: fleet.ResultFailed, Reason: "BackoffLimitExceeded: exit code 3"},
		},
		"dev/backup": {
			{Namespace: "dev", CronJob: "backup", Job: "backup-29398320", Trigger: fleet.TriggerCatchUp, Scheduled: at(-11 * time.Hour),
				Start: at(-10*time.Hour - 30*time.Minute), End: at(-10 * time.Hour), Result: fleet.ResultFailed, Reason: "BackoffLimitExceeded: OOMKilled"},
		},
	}
}

func TestRunsAndWhy(t *testing.T) {
	rt := testRuntime(t)
	ctx := context.Background()
	cases := []struct {
		name, ns, cronjob string
		why               bool
		output            string
	}{
		{name: "runs", cronjob: "heartbeat"},
		{name: "runs-json", cronjob: "backup", output: "json"},
		{name: "why-missed", cronjob: "heartbeat", why: true},
		{name: "why-suspended", ns: "dev", cronjob: "backup", why: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cj, err := findFleetCronJob(ctx, rt, tc.ns, tc.cronjob)
			if err != nil {
				t.Fatal(err)
			}
			runs, _ := rt.FleetRuns(ctx, cj.Namespace, cj.Name, 0)
			var out bytes.Buffer
			if tc.why {
				err = printWhy(&out, cj, runs, testNow)
			} else {
				err = printRuns(&out, runs, tc.output, testNow)
			}
			if err != nil {
				t.Fatal(err)
			}
			assertGolden(t, "fleet/"+tc.name+".golden", out.Bytes())
		})
	}
	if _, err := findFleetCronJob(ctx, rt, "", "ghost"); err == nil {
		t.Error("unknown CronJob: no error")
	}
}

func TestWhyExplainsEachState(t *testing.T) {
	base := fleet.CronJob{Namespace: "ns", Name: "cj", Schedule: "0 * * * *"}
	failed := []fleet.Run{{Job: "cj-1", Trigger: fleet.TriggerScheduled, Scheduled: testNow.Add(-time.Hour), Start: testNow.Add(-time.Hour),
		End: testNow.Add(-50 * time.Minute), Result: fleet.ResultFailed, Reason: "DeadlineExceeded"}}
	cases := []struct {
		name   string
		health fleet.Health
		runs   []fleet.Run
		want   string
	}{
		{"late", fleet.Health{State: fleet.StateLate, Due: testNow.Add(-2 * time.Minute)}, nil, "has no Job 2m after that time"},
		{"late forbid", fleet.Health{State: fleet.StateLate, Reason: "ForbidOverlap", Due: testNow.Add(-2 * time.Minute)}, nil, "concurrencyPolicy is Forbid"},
		{"missed deadline", fleet.Health{State: fleet.StateMissed, Reason: "DeadlinePassed", Due: testNow}, nil, "startingDeadlineSeconds passed"},
		{"missed too many", fleet.Health{State: fleet.StateMissed, Reason: "TooManyMissed", Due: testNow}, nil, "more than 100 start times"},
		{"failing", fleet.Health{State: fleet.StateFailing, Reason: "DeadlineExceeded"}, failed, "failed after 10m: DeadlineExceeded. No run has succeeded since"},
		{"healthy", fleet.Health{State: fleet.StateHealthy}, nil, "has no missed or failed run in its ledger (0 runs kept); it is Healthy"},
		{"suspended in git", fleet.Health{State: fleet.StateSuspended, SuspendedBy: "git"}, nil, "is suspended in Git"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := base
			c.Health = tc.health
			if got := explain(c, tc.runs, testNow); !bytes.Contains([]byte(got), []byte(tc.want)) {
				t.Errorf("explain = %q\nwant it to contain %q", got, tc.want)
			}
		})
	}
}
