package agent

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/jobsync/jobsync/manifests"
	"github.com/jobsync/jobsync/reconcile"
)

// TestAttemptReportFindingLines: each finding says the line of its field,
// the object its own line.
func TestAttemptReportFindingLines(t *testing.T) {
	at := &reconcile.Attempt{Stage: "validate", Findings: []manifests.Result{{
		File: "cj.yaml", Line: 3, Kind: "CronJob", Namespace: "ns", Name: "nightly",
		Errors:   []manifests.Finding{{Field: "spec.schedule", Message: "bad", Rule: manifests.RuleUpstream, Line: 7}},
		Warnings: []manifests.Finding{{Field: "spec.jobTemplate", Message: "meh", Rule: "some-policy"}},
	}}}
	data, err := json.Marshal(AttemptReportOf(at))
	if err != nil {
		t.Fatal(err)
	}
	got := string(data)
	for _, want := range []string{`"file":"cj.yaml","line":3,"object":"CronJob/ns/nightly"`,
		`"errors":[{"field":"spec.schedule","message":"bad","rule":"upstream","line":7}]`,
		`"warnings":[{"field":"spec.jobTemplate","message":"meh","rule":"some-policy"}]`} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %s:\n%s", want, got)
		}
	}
}
