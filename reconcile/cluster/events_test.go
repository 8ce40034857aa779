package cluster_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	"github.com/jobsync/jobsync/reconcile"
	"github.com/jobsync/jobsync/reconcile/cluster"
)

// events returns jobsync's Events in the namespace by "reason Kind/name",
// each list in creation order (the Job controller's are left out).
func (h *harness) events() map[string][]eventsv1.Event {
	h.t.Helper()
	l, err := env.Client.EventsV1().Events(h.ns).List(h.ctx, metav1.ListOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	sort.SliceStable(l.Items, func(i, j int) bool { return l.Items[i].EventTime.Before(&l.Items[j].EventTime) })
	out := map[string][]eventsv1.Event{}
	for _, e := range l.Items {
		if e.ReportingController != cluster.ReportingController {
			continue
		}
		k := e.Reason + " " + e.Regarding.Kind + "/" + e.Regarding.Name
		out[k] = append(out[k], e)
	}
	return out
}

// wantEvent checks that exactly one Event of that key exists, of the type,
// about the object with uid, with the revision in its note.
func wantEvent(t *testing.T, evs map[string][]eventsv1.Event, key, typ string, uid types.UID, revision string) {
	t.Helper()
	got := evs[key]
	if len(got) != 1 {
		t.Errorf("%s: %d Events, want 1 (all: %v)", key, len(got), keys(evs))
		return
	}
	e := got[0]
	switch {
	case e.Type != typ:
		t.Errorf("%s: type %s, want %s", key, e.Type, typ)
	case e.ReportingController != cluster.ReportingController || e.ReportingInstance == "":
		t.Errorf("%s: reported by %q/%q, want %q and an instance", key, e.ReportingController, e.ReportingInstance, cluster.ReportingController)
	case uid != "" && e.Regarding.UID != uid:
		t.Errorf("%s: regarding uid %s, want %s", key, e.Regarding.UID, uid)
	case !strings.Contains(e.Note, "revision "+revision):
		t.Errorf("%s: note %q does not name revision %s", key, e.Note, revision)
	}
}

func keys(evs map[string][]eventsv1.Event) []string {
	var out []string
	for k, v := range evs {
		out = append(out, fmt.Sprintf("%s×%d", k, len(v)))
	}
	sort.Strings(out)
	return out
}

// badConfigMap is refused by the API server (invalid data key).
const badConfigMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bad\ndata:\n  \"not a key!\": x\n"

// TestEvents follows one sync through create, no change, drift, recreate,
// prune and a failed apply, and checks the Events on the objects.
func TestEvents(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	work1 := job("work", "busybox:1", reconcile.OnChangeRecreate, "")
	h.mustReconcile("r1", configMap("a", "1"), configMap("b", "1"), work1)
	evs := h.events()
	a, b, work := h.mustGet("configmaps", "a"), h.mustGet("configmaps", "b"), h.mustGet("jobs", "work")
	wantEvent(t, evs, "Applied ConfigMap/a", corev1.EventTypeNormal, a.GetUID(), "r1")
	wantEvent(t, evs, "Applied ConfigMap/b", corev1.EventTypeNormal, b.GetUID(), "r1")
	wantEvent(t, evs, "Applied Job/work", corev1.EventTypeNormal, work.GetUID(), "r1")
	if n := len(evs); n != 3 {
		t.Errorf("after r1: %v, want 3 kinds of Event", keys(evs))
	}

	// Nothing changed: no Event.
	before := h.tgt.EventStats()
	h.mustReconcile("r1", configMap("a", "1"), configMap("b", "1"), work1)
	if got := h.tgt.EventStats(); got != before {
		t.Errorf("no-change reconcile: event stats %+v, want %+v", got, before)
	}

	// A hand edit is put back, and says so.
	patch := []byte(`{"data":{"key":"hand-edited"}}`)
	if _, err := env.Client.CoreV1().ConfigMaps(h.ns).Patch(h.ctx, "a", types.MergePatchType, patch, metav1.PatchOptions{FieldManager: "kubectl-edit"}); err != nil {
		t.Fatal(err)
	}
	h.mustReconcile("r1", configMap("a", "1"), configMap("b", "1"), work1)
	wantEvent(t, h.events(), "DriftCorrected ConfigMap/a", corev1.EventTypeNormal, a.GetUID(), "r1")

	// r2: the Job's template changes (recreated), b leaves Git (pruned).
	h.mustReconcile("r2", configMap("a", "1"), job("work", "busybox:2", reconcile.OnChangeRecreate, ""))
	evs = h.events()
	wantEvent(t, evs, "Recreated Job/work", corev1.EventTypeNormal, h.mustGet("jobs", "work").GetUID(), "r2")
	wantEvent(t, evs, "Pruned ConfigMap/b", corev1.EventTypeNormal, b.GetUID(), "r2")
	if n := len(evs["Applied ConfigMap/a"]); n != 1 {
		t.Errorf("unchanged ConfigMap a got %d Applied Events, want still 1", n)
	}

	// r3: the server refuses a ConfigMap (invalid data key): a Warning.
	if _, _, _, err := h.reconcile("r3", configMap("a", "1"), badConfigMap); err == nil {
		t.Fatal("r3 applied an invalid ConfigMap")
	}
	wantEvent(t, h.events(), "ApplyFailed ConfigMap/bad", corev1.EventTypeWarning, "", "r3")
	if st := h.tgt.EventStats(); st.Failed != 0 || st.Dropped != 0 || st.Recorded != 7 {
		t.Errorf("event stats %+v, want 7 recorded, none failed or dropped", st)
	}
}

// TestEventsBestEffort: Events can be turned off and are capped per apply,
// and an Event the API server refuses never fails the apply.
func TestEventsBestEffort(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(*cluster.Options)
		// forbid runs the target as a user who may not create Events.
		forbid bool
		// bad adds a ConfigMap the server refuses.
		bad  bool
		want cluster.EventStats
		// wantKeys are the Events in the namespace.
		wantKeys []string
	}{
		{name: "off", mutate: func(o *cluster.Options) { o.Events = false }},
		{name: "capped", mutate: func(o *cluster.Options) { o.MaxEvents = 2 }, want: cluster.EventStats{Recorded: 2, Dropped: 1}},
		{
			name: "capped keeps failures", mutate: func(o *cluster.Options) { o.MaxEvents = 1 }, bad: true,
			want: cluster.EventStats{Recorded: 1, Dropped: 3}, wantKeys: []string{"ApplyFailed ConfigMap/bad×1"},
		},
		{name: "forbidden", forbid: true, want: cluster.EventStats{Failed: 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.mutate)
			if tc.forbid {
				h.tgt = h.targetWithoutEventRights()
			}
			docs := []string{configMap("a", "1"), configMap("b", "1"), configMap("c", "1")}
			if !tc.bad {
				h.mustReconcile("r1", docs...)
			} else if _, _, _, err := h.reconcile("r1", append(docs, badConfigMap)...); err == nil {
				t.Fatal("an invalid ConfigMap was applied")
			}
			for _, n := range []string{"a", "b", "c"} {
				h.mustGet("configmaps", n)
			}
			if got := h.tgt.EventStats(); got != tc.want {
				t.Errorf("event stats %+v, want %+v", got, tc.want)
			}
			got := keys(h.events())
			if n := len(got); int64(n) != tc.want.Recorded || (tc.wantKeys != nil && !slices.Equal(got, tc.wantKeys)) {
				t.Errorf("Events in the namespace: %v, want %d %v", got, tc.want.Recorded, tc.wantKeys)
			}
		})
	}
}

// targetWithoutEventRights returns a target that acts as a user allowed to
// manage ConfigMaps in the namespace, and nothing else.
func (h *harness) targetWithoutEventRights() *cluster.Target {
	h.t.Helper()
	user := "configmaps-only-" + h.ns
	rbac := env.Client.RbacV1()
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: "configmaps-only"},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "list", "create", "update", "patch", "delete"}}},
	}
	if _, err := rbac.Roles(h.ns).Create(h.ctx, role, metav1.CreateOptions{}); err != nil {
		h.t.Fatal(err)
	}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "configmaps-only"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: user}},
	}
	if _, err := rbac.RoleBindings(h.ns).Create(h.ctx, rb, metav1.CreateOptions{}); err != nil {
		h.t.Fatal(err)
	}
	cfg := env.RESTConfig()
	cfg.Impersonate = rest.ImpersonationConfig{UserName: user}
	opts := cluster.DefaultOptions()
	opts.Sync, opts.Namespace = h.ns, h.ns
	tgt, err := cluster.New(cfg, opts)
	if err != nil {
		h.t.Fatal(err)
	}
	// The authorizer learns of the binding from a watch: wait for it.
	eventually(h.t, 30*time.Second, "the RoleBinding in effect", func() error {
		_, err := tgt.Inventory(h.ctx)
		return err
	})
	return tgt
}
