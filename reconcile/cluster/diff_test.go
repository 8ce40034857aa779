package cluster_test

import (
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/jobsync/jobsync/reconcile"
)

// TestDiffDryRun diffs a revision against what r1 applied: a changed
// ConfigMap, a new one, an unchanged CronJob, a pruned ConfigMap and a Job
// whose template changed. The server's dry run computes the result; nothing
// is written.
func TestDiffDryRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.mustReconcile("r1", configMap("a", "1"), configMap("old", "1"), cronJob("nightly", "0 3 * * *", "busybox:1"), job("work", "busybox:1", "", ""))
	inv, err := h.tgt.Inventory(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	other := h.ns + "-later"
	nsDoc := "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: " + other + "\n"
	inOther := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: elsewhere\n  namespace: " + other + "\ndata: {k: v}\n"
	desired := h.desired("r2", configMap("a", "2"), configMap("new", "1"), cronJob("nightly", "0 3 * * *", "busybox:1"), job("work", "busybox:2", "", ""), nsDoc, inOther)
	cs, err := reconcile.Plan("r2", desired, inv, reconcile.DefaultPlanOptions())
	if err != nil {
		t.Fatal(err)
	}
	diffs, err := h.tgt.Diff(h.ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for i, d := range diffs {
		got[d.Ref.Kind+"/"+d.Ref.Name] = i
		if d.Err != "" {
			t.Errorf("%s: %s", d.Ref, d.Err)
		}
	}
	tests := []struct {
		obj      string
		action   reconcile.Action
		contains []string
		note     string
	}{
		{obj: "ConfigMap/a", action: reconcile.ActionUpdate, contains: []string{"--- live/ConfigMap/" + h.ns + "/a", "+++ git/ConfigMap/" + h.ns + "/a", `-  key: "1"`, `+  key: "2"`, "-    jobsync.io/revision: r1", "+    jobsync.io/revision: r2"}},
		{obj: "ConfigMap/new", action: reconcile.ActionCreate, contains: []string{"@@ -0,0 +1,13 @@", "+kind: ConfigMap", "+  name: new", "+    app.kubernetes.io/managed-by: jobsync"}},
		{obj: "CronJob/nightly", action: reconcile.ActionUnchanged},
		{obj: "ConfigMap/old", action: reconcile.ActionPrune, contains: []string{"@@ -1,13 +0,0 @@", "-kind: ConfigMap", "-  name: old"}, note: "deleted"},
		{obj: "Namespace/" + other, action: reconcile.ActionCreate, contains: []string{"+kind: Namespace"}},
		{obj: "ConfigMap/elsewhere", action: reconcile.ActionCreate, contains: []string{"+  namespace: " + other}, note: "namespace does not exist yet"},
		{obj: "Job/work", action: reconcile.ActionRecreate, contains: []string{"-      - image: busybox:1", "+      - image: busybox:2"}, note: "immutable"},
	}
	for _, tc := range tests {
		i, ok := got[tc.obj]
		if !ok {
			t.Errorf("%s: no diff", tc.obj)
			continue
		}
		d := diffs[i]
		if d.Action != tc.action {
			t.Errorf("%s: action %s, want %s", tc.obj, d.Action, tc.action)
		}
		if len(tc.contains) == 0 && d.Changed() {
			t.Errorf("%s: unexpected diff:\n%s", tc.obj, d.Diff)
		}
		for _, w := range tc.contains {
			if !strings.Contains(d.Diff, w+"\n") {
				t.Errorf("%s: diff lacks line %q:\n%s", tc.obj, w, d.Diff)
			}
		}
		if !strings.Contains(d.Note, tc.note) {
			t.Errorf("%s: note %q, want it to say %q", tc.obj, d.Note, tc.note)
		}
	}
	// Nothing was written: a is still 1, new does not exist, old is still there.
	if v, _, _ := unstructured.NestedString(h.mustGet("configmaps", "a").Object, "data", "key"); v != "1" {
		t.Errorf("ConfigMap a after diff: key %q, want 1", v)
	}
	if _, err := h.get("configmaps", "new"); !apierrors.IsNotFound(err) {
		t.Errorf("ConfigMap new after diff: %v, want NotFound", err)
	}
	h.mustGet("configmaps", "old")
	if _, err := h.get("namespaces", other); !apierrors.IsNotFound(err) {
		t.Errorf("Namespace %s after diff: %v, want NotFound", other, err)
	}
	if img := image(h.mustGet("jobs", "work")); img != "busybox:1" {
		t.Errorf("Job work after diff: image %s, want busybox:1", img)
	}
}

// TestDiffShowsDrift: an unchanged object edited by hand shows the edit
// being put back.
func TestDiffShowsDrift(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.mustReconcile("r1", configMap("settings", "v1"))
	if _, err := h.dyn.Resource(gvrs["configmaps"]).Namespace(h.ns).Patch(h.ctx, "settings", types.MergePatchType,
		[]byte(`{"data":{"key":"hand"}}`), metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	inv, err := h.tgt.Inventory(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := reconcile.Plan("r2", h.desired("r2", configMap("settings", "v1")), inv, reconcile.DefaultPlanOptions())
	if err != nil {
		t.Fatal(err)
	}
	diffs, err := h.tgt.Diff(h.ctx, cs)
	if err != nil || len(diffs) != 1 {
		t.Fatalf("Diff = %+v, %v; want one diff", diffs, err)
	}
	d := diffs[0]
	if d.Action != reconcile.ActionUnchanged || !strings.Contains(d.Note, "drift") ||
		!strings.Contains(d.Diff, "-  key: hand\n") || !strings.Contains(d.Diff, "+  key: v1\n") {
		t.Errorf("diff %+v, want drift putting key back to v1", d)
	}
	if strings.Contains(d.Diff, "jobsync.io/revision") {
		t.Errorf("an unchanged object's diff shows the revision annotation changing:\n%s", d.Diff)
	}
}
