package reconcile

import (
	"time"

	"github.com/jobsync/jobsync/manifests"
)

// Attempt is the record of one reconcile.
type Attempt struct {
	Started  time.Time
	Finished time.Time
	// Revision is the fetched revision ("" when the fetch failed).
	Revision string
	// FetchDuration is how long the source fetch took.
	FetchDuration time.Duration
	// Stage is where the attempt ended: fetch, render, validate, plan, apply, done.
	Stage string
	// Findings are the results that have errors or warnings.
	Findings []manifests.Result
	// ChangeSet and Result: in the Attempt Once returns, with the desired
	// objects; in Status, without (see Summary).
	ChangeSet ChangeSet
	Result    ApplyResult
	Err       error
}

// OK reports whether the attempt applied its revision.
func (a Attempt) OK() bool { return a.Err == nil }

// Status is what the loop knows: the last attempt and the last good one.
type Status struct {
	LastAttempt *Attempt
	// LastApplied is the last attempt that applied its revision.
	LastApplied *Attempt
	// Attempts counts reconciles; Failures counts those that did not apply.
	Attempts, Failures int
}

func (l *Loop) record(a Attempt) {
	a = a.Summary()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.status.Attempts++
	l.status.LastAttempt = &a
	if a.OK() {
		l.status.LastApplied = &a
	} else {
		l.status.Failures++
	}
}

// Summary returns the attempt as Status keeps it: its changes without
// their desired objects (with 10,000 objects, the rendered objects of the
// last attempt and of the last applied one would be most of the agent's
// memory between reconciles).
func (a Attempt) Summary() Attempt {
	changes := make([]Change, len(a.ChangeSet.Changes))
	for i, c := range a.ChangeSet.Changes {
		c.Desired = nil
		changes[i] = c
	}
	a.ChangeSet.Changes = changes
	outcomes := make([]Outcome, len(a.Result.Outcomes))
	for i, o := range a.Result.Outcomes {
		o.Change.Desired = nil
		outcomes[i] = o
	}
	a.Result.Outcomes = outcomes
	return a
}

func (s Status) clone() Status {
	c := s
	if s.LastAttempt != nil {
		a := *s.LastAttempt
		c.LastAttempt = &a
	}
	if s.LastApplied != nil {
		a := *s.LastApplied
		c.LastApplied = &a
	}
	return c
}
