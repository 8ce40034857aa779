package ledger

import (
	"fmt"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"

	"github.com/jobsync/jobsync/fleet"
	"github.com/jobsync/jobsync/schedule"
)

// AnnotationGrace sets how long after a due time a CronJob without its Job
// is Late (a Go duration, e.g. "2m"); DefaultGrace without it.
const AnnotationGrace = "jobsync.io/grace"

// DefaultGrace is the grace of a CronJob without AnnotationGrace.
const DefaultGrace = 60 * time.Second

// CatchUpAfter is the schedule skew above which a scheduled run counts as a
// catch-up (the controller started a due time it had missed).
const CatchUpAfter = time.Minute

// Who suspended a CronJob (fleet.Health.SuspendedBy).
const (
	SuspendedByGit  = "git"
	SuspendedByHand = "hand"
)

// ReasonInvalidSchedule is the Missed reason of a schedule that cannot be
// evaluated (the controller reports InvalidSchedule).
const ReasonInvalidSchedule = "InvalidSchedule"

// Spec is what the health of a CronJob depends on in its spec.
type Spec struct {
	Namespace, Name string
	Labels          map[string]string
	Schedule        string
	TimeZone        string
	// StartingDeadlineSeconds: nil is no deadline.
	StartingDeadlineSeconds *int64
	ConcurrencyPolicy       batchv1.ConcurrencyPolicy
	Suspend                 bool
	// SuspendedBy is SuspendedByGit or SuspendedByHand when Suspend.
	SuspendedBy string
	Grace       time.Duration
	// Created is the CronJob's creation time: no due time before it counts.
	Created time.Time
	Origin  string
}

// SpecOf is the Spec of a live CronJob. gitSuspend is spec.suspend in Git
// (nil when unknown: a live suspend then counts as Git's). A bad grace
// annotation is an error naming the CronJob and the annotation; the Spec
// then has DefaultGrace.
func SpecOf(cj *batchv1.CronJob, gitSuspend *bool) (Spec, error) {
	s := Spec{Namespace: cj.Namespace, Name: cj.Name, Labels: cj.Labels, Schedule: cj.Spec.Schedule,
		StartingDeadlineSeconds: cj.Spec.StartingDeadlineSeconds, ConcurrencyPolicy: cj.Spec.ConcurrencyPolicy,
		Suspend: cj.Spec.Suspend != nil && *cj.Spec.Suspend, Grace: DefaultGrace, Created: cj.CreationTimestamp.Time}
	if cj.Spec.TimeZone != nil {
		s.TimeZone = *cj.Spec.TimeZone
	}
	if s.Suspend {
		s.SuspendedBy = SuspendedByGit
		if gitSuspend != nil && !*gitSuspend {
			s.SuspendedBy = SuspendedByHand
		}
	}
	if v, ok := cj.Annotations[AnnotationGrace]; ok {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return s, fmt.Errorf("CronJob/%s/%s: metadata.annotations[%s]: %q is not a duration such as \"90s\" or \"5m\"", cj.Namespace, cj.Name, AnnotationGrace, v)
		}
		s.Grace = d
	}
	return s, nil
}

// Facts are what the ledger knows of a CronJob besides its spec.
type Facts struct {
	// Runs are the newest runs, oldest first.
	Runs []fleet.Run
	// AgentGaps are the times the agent was down; Suspensions the times the
	// CronJob was suspended (To zero: still).
	AgentGaps, Suspensions []Interval
	// Known is when the ledger began to watch: no due time before it counts.
	Known time.Time
	// LastScheduled is the newest scheduled time of a run the ledger ever
	// recorded (kept after its run is pruned or leaves Runs); zero: none.
	LastScheduled time.Time
	Now           time.Time
}

// Evaluate computes a CronJob's health: Suspended when suspended; Missed
// when a due time since the last scheduled run can no longer start (a later
// one came, or startingDeadlineSeconds passed), until the run after it
// finishes; Late when the latest due time is more than grace ago without its
// Job; else Failing when the newest finished run failed, else Healthy.
func Evaluate(s Spec, f Facts) fleet.Health {
	if s.Suspend {
		h := fleet.Health{State: fleet.StateSuspended, SuspendedBy: s.SuspendedBy}
		if n := len(f.Suspensions); n > 0 && f.Suspensions[n-1].To.IsZero() {
			h.Since = f.Suspensions[n-1].From
		}
		return h
	}
	base := finishedHealth(f.Runs)
	sched, loc, err := parse(s)
	if err != nil {
		return fleet.Health{State: fleet.StateMissed, Reason: ReasonInvalidSchedule}
	}
	last, prev := lastScheduled(f.Runs)
	lastSched := f.LastScheduled
	if last != nil && last.Scheduled.After(lastSched) {
		lastSched = last.Scheduled
	}
	earliest := later(s.Created, f.Known)
	if !lastSched.IsZero() {
		earliest = later(s.Created, lastSched)
	}
	if last != nil && last.Result == fleet.ResultRunning && prev != nil {
		// a catch-up run still going: the due times it jumped over were missed
		if t := schedule.Next(sched, loc, prev.Scheduled); !t.IsZero() && t.Before(last.Scheduled) {
			return missed(s, f, t, false, last.Start)
		}
	}
	u, err := schedule.MostRecentUnmet(sched, loc, earliest, nil, nil, f.Now)
	if err != nil {
		return fleet.Health{State: fleet.StateMissed, Reason: ReasonInvalidSchedule}
	}
	if u.Time.IsZero() {
		return base
	}
	if first := schedule.Next(sched, loc, earliest); first.Before(u.Time) {
		// like the controller, count only the misses within now - startingDeadlineSeconds
		tooMany := u.TooMany
		if s.StartingDeadlineSeconds != nil {
			w, err := schedule.MostRecentUnmet(sched, loc, earliest, nil, s.StartingDeadlineSeconds, f.Now)
			tooMany = err == nil && w.TooMany
		}
		return missed(s, f, first, tooMany, schedule.Next(sched, loc, first))
	}
	due := u.Time
	if sds := s.StartingDeadlineSeconds; sds != nil {
		if dl := due.Add(time.Duration(*sds) * time.Second); dl.Before(f.Now) {
			return missed(s, f, due, false, dl)
		}
	}
	if f.Now.Sub(due) <= s.Grace {
		return base
	}
	h := fleet.Health{State: fleet.StateLate, Due: due, Since: due.Add(s.Grace)}
	if s.ConcurrencyPolicy == batchv1.ForbidConcurrent && activeAt(f.Runs, due) != nil {
		h.Reason = string(fleet.MissForbid)
	}
	return h
}

// missed is the Missed health of due time t, known missed since since.
func missed(s Spec, f Facts, t time.Time, tooMany bool, since time.Time) fleet.Health {
	return fleet.Health{State: fleet.StateMissed, Reason: string(MissReasonOf(s, f, t, tooMany)), Due: t, Since: since}
}

// MissReasonOf says why due time t got no run: the agent was down, the
// CronJob suspended, too many missed, the previous run still active under
// Forbid, else its deadline (or the next due time) passed.
func MissReasonOf(s Spec, f Facts, t time.Time, tooMany bool) fleet.MissReason {
	switch {
	case anyContains(f.AgentGaps, t):
		return fleet.MissAgentDown
	case anyContains(f.Suspensions, t):
		return fleet.MissSuspended
	case tooMany:
		return fleet.MissTooMany
	case s.ConcurrencyPolicy == batchv1.ForbidConcurrent && activeAt(f.Runs, t) != nil:
		return fleet.MissForbid
	}
	return fleet.MissDeadline
}

func anyContains(l []Interval, t time.Time) bool {
	for _, i := range l {
		if !t.Before(i.From) && (i.To.IsZero() || t.Before(i.To)) {
			return true
		}
	}
	return false
}

// activeAt is a run that was running at t, if any.
func activeAt(runs []fleet.Run, t time.Time) *fleet.Run {
	for i := len(runs) - 1; i >= 0; i-- {
		r := &runs[i]
		if !r.Start.After(t) && (r.End.IsZero() || r.End.After(t)) {
			return r
		}
	}
	return nil
}

// finishedHealth is Failing when the newest finished run failed, else Healthy.
func finishedHealth(runs []fleet.Run) fleet.Health {
	for i := len(runs) - 1; i >= 0; i-- {
		r := runs[i]
		switch r.Result {
		case fleet.ResultFailed:
			return fleet.Health{State: fleet.StateFailing, Reason: r.Reason, Since: r.End}
		case fleet.ResultSucceeded:
			return fleet.Health{State: fleet.StateHealthy, Since: r.End}
		}
	}
	return fleet.Health{State: fleet.StateHealthy}
}

// lastScheduled returns the newest two runs that have a scheduled time.
func lastScheduled(runs []fleet.Run) (last, prev *fleet.Run) {
	for i := len(runs) - 1; i >= 0; i-- {
		if runs[i].Scheduled.IsZero() {
			continue
		}
		if last == nil {
			last = &runs[i]
		} else if runs[i].Scheduled.Before(last.Scheduled) {
			return last, &runs[i]
		}
	}
	return last, nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func zonePtr(tz string) *string {
	if tz == "" {
		return nil
	}
	return &tz
}

// NextRun is the next due time of a CronJob after now, in its zone (zero
// when suspended or never).
func NextRun(s Spec, now time.Time) time.Time {
	if s.Suspend {
		return time.Time{}
	}
	sched, loc, err := parse(s)
	if err != nil {
		return time.Time{}
	}
	return schedule.Next(sched, loc, now)
}

// parsed caches parsed schedules (a fleet's health is evaluated every few
// seconds; a cron.Schedule is read-only, safe to share).
var parsed sync.Map // schedule string -> cron.Schedule

func parse(s Spec) (cron.Schedule, *time.Location, error) {
	var sched cron.Schedule
	if v, ok := parsed.Load(s.Schedule); ok {
		sched = v.(cron.Schedule)
	} else {
		var err error
		if sched, err = schedule.Parse(s.Schedule); err != nil {
			return nil, nil, err
		}
		parsed.Store(s.Schedule, sched)
	}
	loc, err := schedule.LoadLocation(zonePtr(s.TimeZone))
	return sched, loc, err
}

// TriggerOf is the trigger of a run the CronJob controller started for
// scheduled at start: catch-up when it is more than CatchUpAfter late.
func TriggerOf(scheduled, start time.Time) fleet.Trigger {
	if start.Sub(scheduled) > CatchUpAfter {
		return fleet.TriggerCatchUp
	}
	return fleet.TriggerScheduled
}

// FailureReason is a failed run's Reason: the Job condition's reason, then
// what killed its last failed container ("BackoffLimitExceeded: exit code
// 3", "BackoffLimitExceeded: OOMKilled").
func FailureReason(condition string, exitCode int32, oomKilled bool) string {
	switch {
	case oomKilled:
		return condition + ": OOMKilled"
	case exitCode != 0:
		return fmt.Sprintf("%s: exit code %d", condition, exitCode)
	}
	return condition
}
