package main

import (
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/jobsync/jobsync/ledger"
)

func TestClusterWhoSuspended(t *testing.T) {
	fields := func(manager, raw string) metav1.ManagedFieldsEntry {
		return metav1.ManagedFieldsEntry{Manager: manager, FieldsV1: &metav1.FieldsV1{Raw: []byte(raw)}}
	}
	cases := []struct {
		name    string
		managed []metav1.ManagedFieldsEntry
		want    string
	}{
		{"suspend applied from Git", []metav1.ManagedFieldsEntry{fields("jobsync", `{"f:spec":{"f:schedule":{},"f:suspend":{}}}`)}, ledger.SuspendedByGit},
		{"kubectl patch owns spec.suspend", []metav1.ManagedFieldsEntry{
			fields("jobsync", `{"f:spec":{"f:schedule":{}}}`), fields("kubectl-patch", `{"f:spec":{"f:suspend":{}}}`)}, ledger.SuspendedByHand},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cj := batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "cj", ManagedFields: tc.managed},
				Spec: batchv1.CronJobSpec{Schedule: "@daily", Suspend: ptr.To(true)}}
			specs := specsOf([]batchv1.CronJob{cj}, func(c *batchv1.CronJob) *bool { return clusterGitSuspend(c, "jobsync") })
			if len(specs) != 1 || specs[0].SuspendedBy != tc.want {
				t.Errorf("SuspendedBy = %q, want %q", specs[0].SuspendedBy, tc.want)
			}
		})
	}
}

func TestAgentFleetReadyAfterStartAndWatchSync(t *testing.T) {
	ff := fleetFlags{retention: time.Hour}
	af, err := openAgentFleet(t.TempDir(), ff, func() []ledger.Spec { return nil }, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer af.close()
	af.watched = new(atomic.Bool) // the cluster target
	steps := []struct {
		name  string
		do    func()
		ready bool
	}{
		{name: "opened", do: func() {}},
		{name: "target started, watch not synced", do: af.markStarted},
		{name: "watch synced", do: func() { af.watched.Store(true) }, ready: true},
	}
	for _, st := range steps {
		st.do()
		if got := af.ready(); got != st.ready {
			t.Errorf("%s: ready = %t, want %t", st.name, got, st.ready)
		}
	}
}
