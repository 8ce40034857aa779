package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/jobsync/jobsync/reconcile"
	"github.com/jobsync/jobsync/reconcile/cluster"
)

func configMap(name, value string, annotations ...string) string {
	ann := ""
	for i := 0; i+1 < len(annotations); i += 2 {
		ann += fmt.Sprintf("\n    %s: %q", annotations[i], annotations[i+1])
	}
	if ann != "" {
		ann = "\n  annotations:" + ann
	}
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s%s\ndata:\n  key: %q\n", name, ann, value)
}

func cronJob(name, schedule, image string) string {
	return fmt.Sprintf(`apiVersion: batch/v1
kind: CronJob
metadata:
  name: %s
spec:
  schedule: %q
  jobTemplate:
    spec:
      backoffLimit: 0
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: main
            image: %s
`, name, schedule, image)
}

func TestApplyCreateUpdatePrune(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	res, _ := h.mustReconcile("r1", configMap("a", "1"), configMap("b", "1"), cronJob("nightly", "0 3 * * *", "busybox:1"))
	for _, k := range [][2]string{{"ConfigMap", "a"}, {"ConfigMap", "b"}, {"CronJob", "nightly"}} {
		if o := outcome(t, res, k[0], k[1]); !o.Done || o.Change.Action != reconcile.ActionCreate || o.Err != "" {
			t.Errorf("%s %s: outcome %+v, want a done create", k[0], k[1], o)
		}
	}
	cj := h.mustGet("cronjobs", "nightly")
	if l := cj.GetLabels(); l[reconcile.LabelManagedBy] != "jobsync" || l[reconcile.LabelSync] != h.ns {
		t.Errorf("CronJob labels = %v, want managed-by jobsync and sync %s", l, h.ns)
	}
	if cj.GetAnnotations()[reconcile.AnnotationSpecHash] == "" {
		t.Errorf("CronJob has no %s annotation", reconcile.AnnotationSpecHash)
	}
	inv, err := h.tgt.Inventory(h.ctx)
	if err != nil || len(inv) != 3 {
		t.Fatalf("inventory = %v, %v; want 3 entries", inv, err)
	}

	// r2 changes a, drops b, keeps the CronJob.
	res, _ = h.mustReconcile("r2", configMap("a", "2"), cronJob("nightly", "0 3 * * *", "busybox:1"))
	if o := outcome(t, res, "ConfigMap", "a"); o.Change.Action != reconcile.ActionUpdate || !o.Done {
		t.Errorf("a: %+v, want a done update", o)
	}
	if o := outcome(t, res, "ConfigMap", "b"); o.Change.Action != reconcile.ActionPrune || !o.Done {
		t.Errorf("b: %+v, want a done prune", o)
	}
	if v, _, _ := unstructured.NestedString(h.mustGet("configmaps", "a").Object, "data", "key"); v != "2" {
		t.Errorf("ConfigMap a data.key = %q, want 2", v)
	}
	if _, err := h.get("configmaps", "b"); !apierrors.IsNotFound(err) {
		t.Errorf("ConfigMap b after prune: %v, want NotFound", err)
	}
	if inv, _ := h.tgt.Inventory(h.ctx); len(inv) != 2 {
		t.Errorf("inventory after prune has %d entries, want 2", len(inv))
	}

	// The same revision again writes nothing.
	res, writes := h.mustReconcile("r2", configMap("a", "2"), cronJob("nightly", "0 3 * * *", "busybox:1"))
	if writes != 0 || len(res.Drift) != 0 {
		t.Errorf("no-change reconcile: %d writes, drift %v; want 0 and none", writes, res.Drift)
	}
}

// TestStagedNamespaceThenCronJob applies a new namespace and a CronJob in it
// in one change set: it only works when the namespace is applied first.
func TestStagedNamespaceThenCronJob(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	other := h.ns + "-apps"
	t.Cleanup(func() {
		_ = env.Client.CoreV1().Namespaces().Delete(context.Background(), other, metav1.DeleteOptions{})
	})
	nsDoc := fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", other)
	cj := cronJob("report", "*/5 * * * *", "busybox:1")
	cj = cj[:len("apiVersion: batch/v1\nkind: CronJob\nmetadata:\n")] + "  namespace: " + other + "\n" + cj[len("apiVersion: batch/v1\nkind: CronJob\nmetadata:\n"):]
	sa := "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: runner\n  namespace: " + other + "\n"
	res, _ := h.mustReconcile("r1", cj, sa, nsDoc)
	order := map[string]int{}
	for i, o := range res.Outcomes {
		order[o.Change.Ref.Kind] = i
		if !o.Done || o.Err != "" {
			t.Errorf("%s: %+v, want done", o.Change.Ref, o)
		}
	}
	if !(order["Namespace"] < order["ServiceAccount"] && order["ServiceAccount"] < order["CronJob"]) {
		t.Errorf("outcome order %v: want Namespace, then ServiceAccount, then CronJob", order)
	}
	if _, err := h.dyn.Resource(gvrs["cronjobs"]).Namespace(other).Get(h.ctx, "report", metav1.GetOptions{}); err != nil {
		t.Errorf("CronJob in the new namespace: %v", err)
	}
}

// TestDriftPutBack edits applied objects by hand (another field manager, as
// kubectl edit does) and deletes one: the next reconcile puts them back and
// reports drift; edits of fields jobsync does not set are left alone.
func TestDriftPutBack(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	docs := []string{configMap("settings", "v1"), configMap("gone", "v1"), cronJob("nightly", "0 3 * * *", "busybox:1")}
	h.mustReconcile("r1", docs...)

	cjs := env.Client.BatchV1().CronJobs(h.ns)
	cj, err := cjs.Get(h.ctx, "nightly", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cj.Spec.Schedule = "*/1 * * * *"
	if _, err := cjs.Update(h.ctx, cj, metav1.UpdateOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	cms := env.Client.CoreV1().ConfigMaps(h.ns)
	patch := []byte(`{"data":{"key":"hand-edited"},"metadata":{"labels":{"team":"ops"}}}`)
	if _, err := cms.Patch(h.ctx, "settings", types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "kubectl-patch"}); err != nil {
		t.Fatal(err)
	}
	if err := cms.Delete(h.ctx, "gone", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	res, _ := h.mustReconcile("r1", docs...)
	drift := map[string]bool{}
	for _, r := range res.Drift {
		drift[r.Kind+"/"+r.Name] = true
	}
	for _, want := range []string{"CronJob/nightly", "ConfigMap/settings", "ConfigMap/gone"} {
		if !drift[want] {
			t.Errorf("drift %v: missing %s", res.Drift, want)
		}
	}
	if o := outcome(t, res, "CronJob", "nightly"); o.Reason == "" {
		t.Errorf("CronJob drift outcome has no reason: %+v", o)
	}
	if s, _, _ := unstructured.NestedString(h.mustGet("cronjobs", "nightly").Object, "spec", "schedule"); s != "0 3 * * *" {
		t.Errorf("schedule after reconcile = %q, want it put back to 0 3 * * *", s)
	}
	settings := h.mustGet("configmaps", "settings")
	if v, _, _ := unstructured.NestedString(settings.Object, "data", "key"); v != "v1" {
		t.Errorf("settings data.key = %q, want v1 put back", v)
	}
	if settings.GetLabels()["team"] != "ops" {
		t.Errorf("the hand-added label team=ops was removed; jobsync does not own it")
	}
	h.mustGet("configmaps", "gone")

	// Once put back, nothing drifts and nothing is written.
	res, writes := h.mustReconcile("r1", docs...)
	if len(res.Drift) != 0 || writes != 0 {
		t.Errorf("after repair: drift %v, %d writes; want none", res.Drift, writes)
	}
}

// TestPruneKeepsControllerOwnedAndDisabled: prune never deletes an object a
// controller owns, nor one marked jobsync.io/prune: disabled (in Git, or added
// by hand on the live object).
func TestPruneKeepsControllerOwnedAndDisabled(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	owner := cronJob("owner", "0 0 1 1 *", "busybox:1")
	adopted := `apiVersion: batch/v1
kind: Job
metadata:
  name: adopted
spec:
  suspend: true
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox:1}]
`
	keepGit := configMap("keep-git", "1", reconcile.AnnotationPrune, "disabled")
	keepLive := configMap("keep-live", "1")
	plain := configMap("plain", "1")
	h.mustReconcile("r1", owner, adopted, keepGit, keepLive, plain)

	// The Job gets a controller owner (the CronJob), as a CronJob's own Jobs have.
	cj := h.mustGet("cronjobs", "owner")
	patch := fmt.Sprintf(`{"metadata":{"ownerReferences":[{"apiVersion":"batch/v1","kind":"CronJob","name":"owner","uid":%q,"controller":true}]}}`, cj.GetUID())
	if _, err := env.Client.BatchV1().Jobs(h.ns).Patch(h.ctx, "adopted", types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	ann := fmt.Sprintf(`{"metadata":{"annotations":{%q:"disabled"}}}`, reconcile.AnnotationPrune)
	if _, err := env.Client.CoreV1().ConfigMaps(h.ns).Patch(h.ctx, "keep-live", types.MergePatchType, []byte(ann), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}

	res, _ := h.mustReconcile("r2", owner)
	for _, kept := range [][2]string{{"jobs", "adopted"}, {"configmaps", "keep-git"}, {"configmaps", "keep-live"}} {
		if _, err := h.get(kept[0], kept[1]); err != nil {
			t.Errorf("%s/%s was pruned (%v); it must be kept", kept[0], kept[1], err)
		}
	}
	if _, err := h.get("configmaps", "plain"); !apierrors.IsNotFound(err) {
		t.Errorf("ConfigMap plain: %v, want pruned", err)
	}
	if o := outcome(t, res, "ConfigMap", "keep-git"); o.Change.Action != reconcile.ActionOrphan {
		t.Errorf("keep-git: %+v, want orphan", o)
	}
	if o := outcome(t, res, "Job", "adopted"); o.Change.Action != reconcile.ActionPrune || o.Reason == "" || o.Reason == "left Git; deleted" {
		t.Errorf("adopted Job: %+v, want a prune that kept it and says why", o)
	}
	if inv, _ := h.tgt.Inventory(h.ctx); len(inv) != 1 {
		t.Errorf("inventory after r2 = %v, want only the CronJob", inv)
	}
}

// TestEmptyRenderRefused: a change set that would prune everything is refused
// unless the target allows empty renders.
func TestEmptyRenderRefused(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.mustReconcile("r1", configMap("a", "1"), configMap("b", "1"))
	inv, err := h.tgt.Inventory(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The planner refuses first; the target refuses too when handed such a plan.
	if _, err := reconcile.Plan("r2", nil, inv, reconcile.DefaultPlanOptions()); !errors.Is(err, reconcile.ErrEmptyRender) {
		t.Fatalf("Plan of an empty render: %v, want ErrEmptyRender", err)
	}
	cs, err := reconcile.Plan("r2", nil, inv, reconcile.PlanOptions{AllowEmpty: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.tgt.Apply(h.ctx, cs); !errors.Is(err, reconcile.ErrEmptyRender) {
		t.Errorf("Apply of an empty render: %v, want ErrEmptyRender", err)
	}
	for _, n := range []string{"a", "b"} {
		h.mustGet("configmaps", n)
	}
	opts := cluster.DefaultOptions()
	opts.Sync, opts.Namespace, opts.AllowEmpty = h.ns, h.ns, true
	allow, err := cluster.New(env.RESTConfig(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := allow.Apply(h.ctx, cs); err != nil {
		t.Fatalf("Apply with AllowEmpty: %v", err)
	}
	for _, n := range []string{"a", "b"} {
		if _, err := h.get("configmaps", n); !apierrors.IsNotFound(err) {
			t.Errorf("ConfigMap %s with AllowEmpty: %v, want pruned", n, err)
		}
	}
}

// TestApplyErrorStopsLaterStages: an invalid ConfigMap fails stage 1; the
// CronJob of stage 3 is not attempted, and what did apply is in the inventory.
func TestApplyErrorStopsLaterStages(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	bad := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\ndata: {k: v}\n"
	_, res, _, err := h.reconcile("r1", configMap("good", "1"), bad, cronJob("later", "0 3 * * *", "busybox:1"))
	if !errors.Is(err, cluster.ErrApply) {
		t.Fatalf("err = %v, want ErrApply", err)
	}
	if o := outcome(t, res, "ConfigMap", "Bad_Name"); o.Err == "" {
		t.Errorf("Bad_Name: %+v, want an error", o)
	}
	if o := outcome(t, res, "CronJob", "later"); o.Done || o.Reason == "" {
		t.Errorf("later: %+v, want not attempted", o)
	}
	if _, err := h.get("cronjobs", "later"); !apierrors.IsNotFound(err) {
		t.Errorf("CronJob later: %v, want not created", err)
	}
	inv, _ := h.tgt.Inventory(h.ctx)
	if _, ok := inv[reconcile.ObjectRef{Kind: "ConfigMap", Namespace: h.ns, Name: "good"}.Key()]; !ok || len(inv) != 1 {
		t.Errorf("inventory = %v, want only ConfigMap good", inv)
	}
}

// TestFieldManagerOption: applies use Options.FieldManager, and drift is
// judged against that manager's fields (a repeat writes nothing).
func TestFieldManagerOption(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(o *cluster.Options) { o.FieldManager = "jobsync-staging" })
	h.mustReconcile("r1", configMap("a", "1"))
	mf := h.mustGet("configmaps", "a").GetManagedFields()
	if len(mf) != 1 || mf[0].Manager != "jobsync-staging" || mf[0].Operation != metav1.ManagedFieldsOperationApply {
		t.Errorf("managedFields = %+v, want one apply by jobsync-staging", mf)
	}
	if res, writes := h.mustReconcile("r1", configMap("a", "1")); writes != 0 || len(res.Drift) != 0 {
		t.Errorf("repeat: %d writes, drift %v; want none", writes, res.Drift)
	}
}
