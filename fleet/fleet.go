package fleet

import "time"

// Result is how a run ended, or that it has not ended yet.
type Result string

// Results of a run.
const (
	ResultRunning   Result = "Running"
	ResultSucceeded Result = "Succeeded"
	ResultFailed    Result = "Failed"
)

// Trigger says what started a run.
type Trigger string

// Triggers of a run.
const (
	// TriggerScheduled: the CronJob controller, at its scheduled time.
	TriggerScheduled Trigger = "scheduled"
	// TriggerCatchUp: the CronJob controller, for a due time it had missed
	// (the agent was down or late) and still within startingDeadlineSeconds.
	TriggerCatchUp Trigger = "catch-up"
	// TriggerManual: by hand (jobsync trigger, kubectl create job --from).
	TriggerManual Trigger = "manual"
)

// Run is one entry of the run ledger: one Job of a CronJob, kept after the
// Job itself is deleted by history limits or its TTL.
type Run struct {
	Namespace string
	CronJob   string
	Job       string
	Trigger   Trigger
	// Scheduled is the due time the run is for; zero for a manual run.
	Scheduled time.Time
	// Start is when the Job was created; End when it finished (zero while
	// it runs).
	Start time.Time
	End   time.Time
	// Result and Reason: the final condition and why, e.g. Failed with
	// "BackoffLimitExceeded", "DeadlineExceeded", "OOMKilled" or
	// "exit code 3".
	Result Result
	Reason string
}

// Duration is End-Start, or zero while the run has not ended.
func (r Run) Duration() time.Duration {
	if r.End.IsZero() || r.Start.IsZero() {
		return 0
	}
	return r.End.Sub(r.Start)
}

// Skew is how late the Job was created for its scheduled time (zero for a
// manual run).
func (r Run) Skew() time.Duration {
	if r.Scheduled.IsZero() || r.Start.IsZero() {
		return 0
	}
	return r.Start.Sub(r.Scheduled)
}

// State is a CronJob's health.
type State string

// Health states, in the order of how much they need a person.
const (
	// StateHealthy: every due run started within grace and the last
	// finished one succeeded (or none finished yet).
	StateHealthy State = "Healthy"
	// StateLate: a due time passed more than grace ago with no Job yet, and
	// the run may still start (within startingDeadlineSeconds).
	StateLate State = "Late"
	// StateMissed: a due time will never get its run; Health.Reason says
	// why (MissReason).
	StateMissed State = "Missed"
	// StateFailing: the last finished run failed; it stays until a run
	// succeeds.
	StateFailing State = "Failing"
	// StateSuspended: spec.suspend is true; Health.SuspendedBy says who.
	StateSuspended State = "Suspended"
)

// MissReason says why a due time got no run.
type MissReason string

// Reasons a run was missed.
const (
	MissDeadline  MissReason = "DeadlinePassed" // startingDeadlineSeconds passed before the Job could start
	MissForbid    MissReason = "ForbidOverlap"  // concurrencyPolicy Forbid and the previous run was still active
	MissSuspended MissReason = "Suspended"      // the CronJob was suspended at the due time
	MissTooMany   MissReason = "TooManyMissed"  // more than 100 missed start times (the controller gives up)
	MissAgentDown MissReason = "AgentDown"      // nothing was running the controller at the due time
)

// Health is a CronJob's health with what led to it.
type Health struct {
	State State
	// Reason is a MissReason for Missed, the failed run's reason for
	// Failing, what holds the run back when known for Late (ForbidOverlap),
	// and empty otherwise.
	Reason string
	// Due is the due time the state is about (Late, Missed); zero otherwise.
	Due time.Time
	// Since is when the CronJob entered this state.
	Since time.Time
	// SuspendedBy is "git" or "hand" (a patch or jobsync suspend) for
	// Suspended.
	SuspendedBy string
}

// CronJob is one CronJob with its health and its latest runs.
type CronJob struct {
	Namespace string
	Name      string
	Labels    map[string]string
	Schedule  string
	// TimeZone is spec.timeZone; empty means the controller's local zone.
	TimeZone string
	Suspend  bool
	// Origin is the manifest's "file:line" in Git, when known.
	Origin string
	Health Health
	// LastResult is the result of the newest finished run (empty if none).
	LastResult  Result
	LastSuccess time.Time
	LastFailure time.Time
	// Next is the next due time (zero when suspended or never).
	Next time.Time
	// Recent holds the newest runs, oldest first, at most 20.
	Recent []Run
}

// View is what a target knows of its fleet, safe for concurrent use.
type View interface {
	// CronJobs returns every CronJob, sorted by namespace and name.
	CronJobs() []CronJob
	// CronJob returns one CronJob; false when there is none.
	CronJob(namespace, name string) (CronJob, bool)
	// Runs returns a CronJob's ledger, newest first, at most limit runs
	// (limit <= 0: all that are kept).
	Runs(namespace, name string, limit int) []Run
}
