package main

import (
	"net/http"
	"time"

	"github.com/jobsync/jobsync/agent"
	"github.com/jobsync/jobsync/reconcile"
	"github.com/jobsync/jobsync/web"
)

// webPages returns the agent's web view (package web), or nil when the
// target has nothing to show: the fleet is the run ledger's view (CronJobs,
// their health and runs) for either target, falling back to the embedded
// runtime's objects (web.ObjectsView) without a ledger; run logs come from
// the embedded runtime; the revision from the loop's status.
func webPages(loop *reconcile.Loop, tgt *openedTarget) http.Handler {
	o := web.DefaultOptions()
	switch {
	case tgt.fleet != nil:
		o.View = tgt.fleet.view
	case tgt.runtime != nil:
		o.View = web.ObjectsView(tgt.runtime, time.Now)
	default:
		return nil
	}
	if tgt.runtime != nil {
		o.Logs = web.PodLogs(tgt.runtime)
	}
	o.Title = "jobsync · " + tgt.name
	o.Revision = func() web.Revision { return revisionOf(loop.Status()) }
	return web.New(o)
}

// revisionOf is the loop's status as the web view shows it.
func revisionOf(st reconcile.Status) web.Revision {
	var r web.Revision
	if at := agent.AttemptReportOf(st.LastAttempt); at != nil {
		r.Attempted, r.AttemptedAt, r.Stage, r.Error = at.Revision, at.Finished, at.Stage, at.Error
		for _, o := range at.Objects {
			r.Changes = append(r.Changes, web.Change{Object: o.Object, Action: string(o.Action), Reason: o.Reason, Done: o.Done, Error: o.Error})
		}
		for _, f := range at.Findings {
			r.Findings = append(r.Findings, findingsOf(f, "error", f.Errors)...)
			r.Findings = append(r.Findings, findingsOf(f, "warning", f.Warnings)...)
		}
	}
	if ap := agent.AttemptReportOf(st.LastApplied); ap != nil {
		r.Applied, r.AppliedAt = ap.Revision, ap.Finished
	}
	return r
}

func findingsOf(f agent.FindingReport, severity string, fields []agent.FieldReport) []web.Finding {
	out := make([]web.Finding, 0, len(fields))
	for _, fr := range fields {
		line := fr.Line
		if line == 0 {
			line = f.Line
		}
		out = append(out, web.Finding{File: f.File, Line: line, Object: f.Object, Severity: severity,
			Rule: fr.Rule, Field: fr.Field, Message: fr.Message})
	}
	return out
}
