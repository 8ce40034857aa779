package reconcile

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoopPlanOnce: the plan-only entry point plans against the target's
// inventory and applies nothing, and leaves Status alone.
func TestLoopPlanOnce(t *testing.T) {
	r := &repo{dir: t.TempDir()}
	tgt := &memTarget{inv: Inventory{}}
	loop := NewLoop(r, tgt, DefaultLoopOptions())
	r.write(t, "main@sha1:1", map[string]string{"cj.yaml": goodCronJob})
	a := loop.PlanOnce(context.Background())
	if a.Err != nil || a.Stage != "planned" || a.ChangeSet.Count(ActionCreate) != 1 {
		t.Fatalf("PlanOnce: err=%v stage=%s changes=%+v", a.Err, a.Stage, a.ChangeSet.Changes)
	}
	if len(tgt.applied) != 0 || loop.Status().LastAttempt != nil {
		t.Fatalf("PlanOnce applied %d change sets, recorded %v", len(tgt.applied), loop.Status().LastAttempt)
	}
}

// TestLoopPathWithSiblingBaseAndConfig: Path is an overlay whose base is
// its sibling, and the .jobsync.yaml between Path and the tree's root is
// the one in force, as validate finds it.
func TestLoopPathWithSiblingBaseAndConfig(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"base/kustomization.yaml":          "resources: [cj.yaml]\n",
		"base/cj.yaml":                     goodCronJob,
		"overlays/prod/kustomization.yaml": "resources: [../../base]\n",
		// the schedule fires daily: a minimum of two days makes it an error
		"overlays/.jobsync.yaml": "minScheduleInterval: 48h\nrules: {cronjob-schedule-too-frequent: error}\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	opts := DefaultLoopOptions()
	opts.Path = filepath.FromSlash("overlays/prod")
	loop := NewLoop(&repo{dir: dir, rev: "r1"}, &memTarget{inv: Inventory{}}, opts)
	a := loop.PlanOnce(context.Background())
	if len(a.Findings) != 1 || a.Findings[0].File != "base/cj.yaml" || len(a.Findings[0].Errors) != 1 ||
		!strings.Contains(a.Findings[0].Errors[0].Rule, "too-frequent") {
		t.Fatalf("err=%v findings=%+v; want the policy error of overlays/.jobsync.yaml on base/cj.yaml", a.Err, a.Findings)
	}
}
