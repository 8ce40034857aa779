package ledger

import (
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/jobsync/jobsync/fleet"
)

func finished(r fleet.Run, after time.Duration, res fleet.Result, reason string) fleet.Run {
	r.End, r.Result, r.Reason = r.Start.Add(after), res, reason
	return r
}

func TestEvaluate(t *testing.T) {
	hourly := Spec{Namespace: "ns", Name: "cj", Schedule: "0 * * * *", Grace: time.Minute, Created: t0.Add(-24 * time.Hour)}
	with := func(f func(*Spec)) Spec { s := hourly; f(&s); return s }
	ok := func(at time.Time) fleet.Run {
		return finished(scheduledRun("cj", at), time.Minute, fleet.ResultSucceeded, "")
	}
	bad := func(at time.Time) fleet.Run {
		return finished(scheduledRun("cj", at), time.Minute, fleet.ResultFailed, "BackoffLimitExceeded")
	}
	h := time.Hour
	cases := []struct {
		name    string
		spec    Spec
		facts   Facts
		want    fleet.State
		reason  string
		due     time.Time
		suspBy  string
		since   time.Time
		sinceOK bool
	}{
		{name: "healthy: last run succeeded, next not due", spec: hourly,
			facts: Facts{Runs: []fleet.Run{ok(t0)}, Now: t0.Add(30 * time.Minute)}, want: fleet.StateHealthy},
		{name: "within grace of a due time", spec: hourly,
			facts: Facts{Runs: []fleet.Run{ok(t0)}, Now: t0.Add(h + 59*time.Second)}, want: fleet.StateHealthy},
		{name: "late after grace", spec: hourly,
			facts: Facts{Runs: []fleet.Run{ok(t0)}, Now: t0.Add(h + 61*time.Second)}, want: fleet.StateLate, due: t0.Add(h),
			since: t0.Add(h + time.Minute), sinceOK: true},
		{name: "grace annotation honoured", spec: with(func(s *Spec) { s.Grace = 5 * time.Minute }),
			facts: Facts{Runs: []fleet.Run{ok(t0)}, Now: t0.Add(h + 4*time.Minute)}, want: fleet.StateHealthy},
		{name: "late in its time zone", spec: with(func(s *Spec) { s.Schedule, s.TimeZone = "0 13 * * *", "Europe/Berlin" }),
			// 13:00 in Berlin is 12:00 UTC in November
			facts: Facts{Runs: []fleet.Run{ok(t0.Add(-24 * h))}, Now: t0.Add(2 * time.Minute)}, want: fleet.StateLate, due: t0},
		{name: "deadline passed", spec: with(func(s *Spec) { s.StartingDeadlineSeconds = ptr.To[int64](120) }),
			facts: Facts{Runs: []fleet.Run{ok(t0)}, Now: t0.Add(h + 3*time.Minute)}, want: fleet.StateMissed,
			reason: string(fleet.MissDeadline), due: t0.Add(h)},
		{name: "a later due time came: the earlier one is missed", spec: hourly,
			facts: Facts{Runs: []fleet.Run{ok(t0)}, Now: t0.Add(2*h + 10*time.Second)}, want: fleet.StateMissed,
			reason: string(fleet.MissDeadline), due: t0.Add(h)},
		{name: "agent down at the due time", spec: hourly,
			facts: Facts{Runs: []fleet.Run{ok(t0)}, AgentGaps: []Interval{{From: t0.Add(30 * time.Minute), To: t0.Add(2*h + 5*time.Second)}},
				Now: t0.Add(2*h + 10*time.Second)}, want: fleet.StateMissed, reason: string(fleet.MissAgentDown), due: t0.Add(h)},
		{name: "suspended at the due time", spec: hourly,
			facts: Facts{Runs: []fleet.Run{ok(t0)}, Suspensions: []Interval{{From: t0.Add(30 * time.Minute), To: t0.Add(2*h + 5*time.Second)}},
				Now: t0.Add(2*h + 10*time.Second)}, want: fleet.StateMissed, reason: string(fleet.MissSuspended), due: t0.Add(h)},
		{name: "forbid: previous run still active at the due time", spec: with(func(s *Spec) {
			s.ConcurrencyPolicy, s.StartingDeadlineSeconds = batchv1.ForbidConcurrent, ptr.To[int64](300)
		}), facts: Facts{Runs: []fleet.Run{scheduledRun("cj", t0)}, Now: t0.Add(h + 6*time.Minute)}, want: fleet.StateMissed,
			reason: string(fleet.MissForbid), due: t0.Add(h)},
		{name: "forbid within the deadline is late, with why", spec: with(func(s *Spec) { s.ConcurrencyPolicy = batchv1.ForbidConcurrent }),
			facts: Facts{Runs: []fleet.Run{scheduledRun("cj", t0)}, Now: t0.Add(h + 2*time.Minute)}, want: fleet.StateLate,
			reason: string(fleet.MissForbid), due: t0.Add(h)},
		{name: "more than 100 missed", spec: with(func(s *Spec) { s.Schedule = "* * * * *" }),
			facts: Facts{Runs: []fleet.Run{ok(t0)}, Now: t0.Add(3 * h)}, want: fleet.StateMissed,
			reason: string(fleet.MissTooMany), due: t0.Add(time.Minute)},
		{name: "catch-up run still going: the skipped due times are missed", spec: hourly,
			facts: Facts{Runs: []fleet.Run{ok(t0), scheduledRun("cj", t0.Add(3*h))}, AgentGaps: []Interval{{From: t0.Add(10 * time.Minute), To: t0.Add(3 * h)}},
				Now: t0.Add(3*h + 10*time.Second)}, want: fleet.StateMissed, reason: string(fleet.MissAgentDown), due: t0.Add(h)},
		{name: "catch-up run finished: healthy again", spec: hourly,
			facts: Facts{Runs: []fleet.Run{ok(t0), ok(t0.Add(3 * h))}, Now: t0.Add(3*h + 10*time.Minute)}, want: fleet.StateHealthy},
		{name: "failing until a success", spec: hourly,
			facts: Facts{Runs: []fleet.Run{bad(t0)}, Now: t0.Add(30 * time.Minute)}, want: fleet.StateFailing,
			reason: "BackoffLimitExceeded", since: t0.Add(time.Minute + 1500*time.Millisecond), sinceOK: true},
		{name: "a manual success clears failing", spec: hourly,
			facts: Facts{Runs: []fleet.Run{bad(t0), {Namespace: "ns", CronJob: "cj", Job: "cj-manual-abc", Trigger: fleet.TriggerManual,
				Start: t0.Add(10 * time.Minute), End: t0.Add(11 * time.Minute), Result: fleet.ResultSucceeded}},
				Now: t0.Add(30 * time.Minute)}, want: fleet.StateHealthy},
		{name: "running after a failure stays failing", spec: hourly,
			facts: Facts{Runs: []fleet.Run{bad(t0), scheduledRun("cj", t0.Add(h))}, Now: t0.Add(h + 5*time.Minute)}, want: fleet.StateFailing,
			reason: "BackoffLimitExceeded"},
		{name: "no run yet, created after the last due time", spec: with(func(s *Spec) { s.Created = t0.Add(10 * time.Minute) }),
			facts: Facts{Now: t0.Add(30 * time.Minute)}, want: fleet.StateHealthy},
		{name: "no due time before the ledger knew", spec: hourly,
			facts: Facts{Known: t0.Add(10 * time.Minute), Now: t0.Add(30 * time.Minute)}, want: fleet.StateHealthy},
		{name: "suspended in Git", spec: with(func(s *Spec) { s.Suspend, s.SuspendedBy = true, SuspendedByGit }),
			facts: Facts{Now: t0}, want: fleet.StateSuspended, suspBy: SuspendedByGit},
		{name: "invalid schedule", spec: with(func(s *Spec) { s.Schedule = "61 * * * *" }),
			facts: Facts{Now: t0}, want: fleet.StateMissed, reason: ReasonInvalidSchedule},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Evaluate(tc.spec, tc.facts)
			if got.State != tc.want || got.Reason != tc.reason || !got.Due.Equal(tc.due) || got.SuspendedBy != tc.suspBy {
				t.Errorf("Evaluate = %+v\nwant state %s reason %q due %s suspendedBy %q", got, tc.want, tc.reason, tc.due, tc.suspBy)
			}
			if tc.sinceOK && !got.Since.Equal(tc.since) {
				t.Errorf("Since = %s, want %s", got.Since, tc.since)
			}
		})
	}
}

func TestSpecOf(t *testing.T) {
	cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "cj", Annotations: map[string]string{AnnotationGrace: "2m"}},
		Spec: batchv1.CronJobSpec{Schedule: "@daily", TimeZone: ptr.To("Asia/Tokyo"), Suspend: ptr.To(true)}}
	s, err := SpecOf(cj, ptr.To(false))
	if err != nil || s.Grace != 2*time.Minute || s.TimeZone != "Asia/Tokyo" || s.SuspendedBy != SuspendedByHand {
		t.Errorf("SpecOf = %+v, %v", s, err)
	}
	if s, _ := SpecOf(cj, ptr.To(true)); s.SuspendedBy != SuspendedByGit {
		t.Errorf("suspended in Git: SuspendedBy = %q", s.SuspendedBy)
	}
	cj.Annotations[AnnotationGrace] = "soon"
	_, err = SpecOf(cj, nil)
	if err == nil || !strings.Contains(err.Error(), "CronJob/ns/cj: metadata.annotations[jobsync.io/grace]") {
		t.Errorf("bad grace: err = %v", err)
	}
}

func TestNextRunInZone(t *testing.T) {
	s := Spec{Schedule: "30 9 * * *", TimeZone: "America/New_York"}
	got := NextRun(s, t0)
	if got.UTC() != time.Date(2026, 11, 22, 14, 30, 0, 0, time.UTC) || got.Location().String() != "America/New_York" {
		t.Errorf("NextRun = %s", got)
	}
	s.Suspend = true
	if !NextRun(s, t0).IsZero() {
		t.Error("suspended: NextRun not zero")
	}
}
