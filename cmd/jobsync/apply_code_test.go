package main

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jobsync/jobsync/gate"
	"github.com/jobsync/jobsync/reconcile"
)

// TestAttemptCode: what the revision makes fail exits 1, what kept it from
// being judged exits 2.
func TestAttemptCode(t *testing.T) {
	down := errors.New("connection refused")
	tests := []struct {
		name string
		a    reconcile.Attempt
		want int
	}{
		{"validation errors", reconcile.Attempt{Stage: "validate", Err: fmt.Errorf("%w; the last good revision stays live", reconcile.ErrRejected)}, exitFindings},
		{"bad .jobsync.yaml", reconcile.Attempt{Stage: "validate", Err: &gate.ConfigError{Err: errors.New("line 3: unknown rule")}}, exitUsage},
		{"tree unreadable", reconcile.Attempt{Stage: "fetch", Err: errors.New("read overlays: permission denied")}, exitUsage},
		{"path missing", reconcile.Attempt{Stage: "render", Err: errors.New("render overlays/x: no such file")}, exitUsage},
		{"cluster out of reach", reconcile.Attempt{Stage: "plan", Err: fmt.Errorf("%w: %w", reconcile.ErrInventory, down)}, exitUsage},
		{"empty render refused", reconcile.Attempt{Stage: "plan", Err: errors.New("plan: the render has no objects")}, exitFindings},
		{"object refused by the API server", reconcile.Attempt{Stage: "apply", Err: errors.New("apply to cluster: CronJob/x: invalid")}, exitFindings},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := attemptCode(tc.a); got != tc.want {
				t.Errorf("attemptCode = %d, want %d", got, tc.want)
			}
		})
	}
}
