package reconcile

import (
	"errors"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func obj(apiVersion, kind, ns, name string, spec map[string]any) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind}}
	u.SetNamespace(ns)
	u.SetName(name)
	if spec != nil {
		u.Object["spec"] = spec
	}
	return u
}

func desired(t *testing.T, u *unstructured.Unstructured) Desired {
	t.Helper()
	h, err := SpecHash(u)
	if err != nil {
		t.Fatal(err)
	}
	return Desired{Ref: RefOf(u), Object: u, Hash: h, Origin: "x.yaml:1"}
}

func TestPlan(t *testing.T) {
	cj := obj("batch/v1", "CronJob", "ns", "backup", map[string]any{"schedule": "0 1 * * *"})
	cj2 := obj("batch/v1", "CronJob", "ns", "backup", map[string]any{"schedule": "0 2 * * *"})
	job := obj("batch/v1", "Job", "ns", "migrate", map[string]any{"parallelism": int64(1)})
	job2 := obj("batch/v1", "Job", "ns", "migrate", map[string]any{"parallelism": int64(2)})
	nsObj := obj("v1", "Namespace", "", "ns", nil)
	cm := obj("v1", "ConfigMap", "ns", "cfg", nil)

	entry := func(t *testing.T, u *unstructured.Unstructured, pruneDisabled bool) InventoryEntry {
		return InventoryEntry{Ref: RefOf(u), Hash: desired(t, u).Hash, PruneDisabled: pruneDisabled}
	}
	inv := func(es ...InventoryEntry) Inventory {
		m := Inventory{}
		for _, e := range es {
			m[e.Ref.Key()] = e
		}
		return m
	}

	cases := []struct {
		name    string
		desired []*unstructured.Unstructured
		inv     Inventory
		opts    PlanOptions
		want    []Action // in order
		wantErr error
	}{
		{name: "all new, staged order", desired: []*unstructured.Unstructured{cj, cm, nsObj},
			want: []Action{ActionCreate, ActionCreate, ActionCreate}},
		{name: "unchanged", desired: []*unstructured.Unstructured{cj}, inv: inv(entry(t, cj, false)),
			want: []Action{ActionUnchanged}},
		{name: "cronjob changed is an update", desired: []*unstructured.Unstructured{cj2}, inv: inv(entry(t, cj, false)),
			want: []Action{ActionUpdate}},
		{name: "job changed is a recreate", desired: []*unstructured.Unstructured{job2}, inv: inv(entry(t, job, false)),
			want: []Action{ActionRecreate}},
		{name: "left git is pruned", desired: []*unstructured.Unstructured{cj}, inv: inv(entry(t, cj, false), entry(t, job, false)),
			want: []Action{ActionUnchanged, ActionPrune}},
		{name: "prune disabled is orphaned", desired: []*unstructured.Unstructured{cj}, inv: inv(entry(t, cj, false), entry(t, cm, true)),
			want: []Action{ActionUnchanged, ActionOrphan}},
		{name: "empty render refused", inv: inv(entry(t, cj, false)), wantErr: ErrEmptyRender},
		{name: "empty render allowed", inv: inv(entry(t, cj, false)), opts: PlanOptions{AllowEmpty: true},
			want: []Action{ActionPrune}},
		{name: "empty render, empty inventory", want: nil},
		{name: "duplicate refused", desired: []*unstructured.Unstructured{cj, cj2}, wantErr: ErrDuplicate},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var ds []Desired
			for _, u := range tc.desired {
				ds = append(ds, desired(t, u))
			}
			cs, err := Plan("main@sha1:abc", ds, tc.inv, tc.opts)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if len(cs.Changes) != len(tc.want) {
				t.Fatalf("got %d changes %+v, want %v", len(cs.Changes), cs.Changes, tc.want)
			}
			for i, c := range cs.Changes {
				if c.Action != tc.want[i] {
					t.Errorf("change %d (%s) = %s, want %s", i, c.Ref, c.Action, tc.want[i])
				}
			}
		})
	}
}

func TestPlanStageOrder(t *testing.T) {
	objs := []*unstructured.Unstructured{
		obj("batch/v1", "Job", "ns", "j", nil),
		obj("v1", "ConfigMap", "ns", "c", nil),
		obj("v1", "Namespace", "", "ns", nil),
		obj("batch/v1", "CronJob", "ns", "cj", nil),
	}
	var ds []Desired
	for _, u := range objs {
		ds = append(ds, desired(t, u))
	}
	cs, err := Plan("r", ds, nil, DefaultPlanOptions())
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, c := range cs.Changes {
		kinds = append(kinds, c.Ref.Kind)
	}
	want := []string{"Namespace", "ConfigMap", "CronJob", "Job"}
	for i := range want {
		if kinds[i] != want[i] {
			t.Fatalf("order = %v, want %v", kinds, want)
		}
	}
	if got := len(Stages(cs.Changes)); got != 3 {
		t.Errorf("stages = %d, want 3 (namespace, config, batch)", got)
	}
}

func TestSpecHashIgnoresServerFields(t *testing.T) {
	a := obj("batch/v1", "CronJob", "ns", "x", map[string]any{"schedule": "* * * * *"})
	b := a.DeepCopy()
	b.SetResourceVersion("42")
	b.SetUID("u-1")
	b.SetAnnotations(map[string]string{AnnotationRevision: "main@sha1:1", AnnotationSpecHash: "zz"})
	b.Object["status"] = map[string]any{"active": []any{}}
	ha, _ := SpecHash(a)
	hb, _ := SpecHash(b)
	if ha != hb {
		t.Fatalf("hash differs on server-set fields: %s vs %s", ha, hb)
	}
	c := a.DeepCopy()
	c.Object["spec"].(map[string]any)["schedule"] = "0 * * * *"
	hc, _ := SpecHash(c)
	if hc == ha {
		t.Fatal("hash did not change with the spec")
	}
}
