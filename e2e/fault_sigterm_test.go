package e2e

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFaultAgentSIGTERMMidApply: SIGTERM in the middle of an apply (as a
// rolling update or a node drain sends it) lets the reconcile under way
// finish every stage, inventory included, and then exits 0: nothing is left
// half-applied, and the restarted agent has nothing to change.
func TestFaultAgentSIGTERMMidApply(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	ns := newNamespace(t, ctx, "fault-sigterm")
	a, rev := startCrashAgent(t, ctx, ns, func(cms, jobs int) bool { return cms >= 1 && cms < crashConfigMaps/2 && jobs == 0 })
	cms := countConfigMaps(ctx, ns)
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.done:
	case <-time.After(3 * time.Minute):
		t.Fatalf("the agent did not exit within 3 minutes of SIGTERM:\n%s", a.logTail())
	}
	if code := a.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0:\n%s", code, a.logTail())
	}
	a.cmd = nil
	t.Logf("SIGTERM with %d of %d ConfigMaps applied", cms, crashConfigMaps)
	// Everything of the revision is there and recorded, before any restart.
	got := managedObjects(t, ctx, ns)
	var missing []string
	for k := range crashWant() {
		if got[k] != rev {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("after the SIGTERM exit %d objects missing or at another revision (e.g. %.3v): the apply was cut short\n%s",
			len(missing), missing, a.logTail())
	}
	if inv := inventoryOf(t, ctx, ns); len(inv) != len(crashWant()) {
		t.Errorf("inventory holds %d objects after the SIGTERM exit, want %d", len(inv), len(crashWant()))
	}
	if log := a.log(); !strings.Contains(log, "agent stopped") || !strings.Contains(log, fmt.Sprintf("revision=%s", rev)) {
		t.Errorf("the log lacks the finished reconcile or the stop:\n%s", a.logTail())
	}
	// Restarted: converged, no Job run twice, nothing to change.
	before := jobUIDs(t, ctx, ns)
	a.start()
	a.waitApplied(2*time.Minute, rev)
	checkConverged(t, ctx, a, ns, rev, crashWant(), before)
}
