package agent

import (
	"time"

	"github.com/jobsync/jobsync/manifests"
	"github.com/jobsync/jobsync/reconcile"
)

// StatusReport is the JSON document served at /status.
type StatusReport struct {
	Target      string         `json:"target"`
	Ready       bool           `json:"ready"`
	Leading     bool           `json:"leading"`
	Attempts    int            `json:"attempts"`
	Failures    int            `json:"failures"`
	LastAttempt *AttemptReport `json:"lastAttempt,omitempty"`
	LastApplied *AttemptReport `json:"lastApplied,omitempty"`
}

// AttemptReport is one reconcile as data.
type AttemptReport struct {
	Revision string    `json:"revision,omitempty"`
	Stage    string    `json:"stage"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Error    string    `json:"error,omitempty"`
	// Findings are the objects with errors or warnings.
	Findings []FindingReport `json:"findings,omitempty"`
	// Objects is the per-object state of the change set.
	Objects []ObjectReport        `json:"objects,omitempty"`
	Drift   []reconcile.ObjectRef `json:"drift,omitempty"`
}

// FindingReport is one object's findings.
type FindingReport struct {
	File     string        `json:"file"`
	Line     int           `json:"line"`
	Object   string        `json:"object"`
	Errors   []FieldReport `json:"errors,omitempty"`
	Warnings []FieldReport `json:"warnings,omitempty"`
}

// FieldReport is one finding with the line of its field in File.
type FieldReport struct {
	manifests.Finding
	Line int `json:"line,omitempty"`
}

func fieldReports(fs []manifests.Finding) []FieldReport {
	if len(fs) == 0 {
		return nil
	}
	out := make([]FieldReport, len(fs))
	for i, f := range fs {
		out[i] = FieldReport{Finding: f, Line: f.Line}
	}
	return out
}

// ObjectReport is what happened to one object.
type ObjectReport struct {
	Object string           `json:"object"`
	Action reconcile.Action `json:"action"`
	Done   bool             `json:"done"`
	Reason string           `json:"reason,omitempty"`
	Error  string           `json:"error,omitempty"`
}

func (a *Agent) statusReport() StatusReport {
	st := a.loop.Status()
	return StatusReport{
		Target: a.target, Ready: a.Ready(), Leading: a.Leading(), Attempts: st.Attempts, Failures: st.Failures,
		LastAttempt: AttemptReportOf(st.LastAttempt), LastApplied: AttemptReportOf(st.LastApplied),
	}
}

// AttemptReportOf returns one reconcile as /status reports it (nil for nil).
func AttemptReportOf(at *reconcile.Attempt) *AttemptReport {
	if at == nil {
		return nil
	}
	r := &AttemptReport{Revision: at.Revision, Stage: at.Stage, Started: at.Started, Finished: at.Finished, Drift: at.Result.Drift}
	if at.Err != nil {
		r.Error = at.Err.Error()
	}
	for _, f := range at.Findings {
		r.Findings = append(r.Findings, FindingReport{File: f.File, Line: f.Line, Object: objectName(f),
			Errors: fieldReports(f.Errors), Warnings: fieldReports(f.Warnings)})
	}
	done := map[string]reconcile.Outcome{}
	for _, o := range at.Result.Outcomes {
		done[o.Change.Ref.Key()] = o
	}
	for _, c := range at.ChangeSet.Changes {
		or := ObjectReport{Object: c.Ref.String(), Action: c.Action, Reason: c.Reason}
		if o, ok := done[c.Ref.Key()]; ok {
			or.Done, or.Error = o.Done, o.Err
			if o.Reason != "" {
				or.Reason = o.Reason
			}
		}
		r.Objects = append(r.Objects, or)
	}
	return r
}

func objectName(r manifests.Result) string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}
