package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/jobsync/jobsync/fleet"
)

var testNow = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// memRuntime is a fixed in-memory runtimeReader: these tests are about printing.
type memRuntime struct {
	cronjobs []batchv1.CronJob
	jobs     []batchv1.Job
	pods     []corev1.Pod
	logs     map[string]map[string]string
	fleet    []fleet.CronJob
	runs     map[string][]fleet.Run
}

func (m memRuntime) FleetCronJobs(context.Context) ([]fleet.CronJob, error) { return m.fleet, nil }
func (m memRuntime) FleetRuns(_ context.Context, ns, name string, limit int) ([]fleet.Run, error) {
	r := m.runs[ns+"/"+name]
	if limit > 0 && len(r) > limit {
		r = r[:limit]
	}
	return r, nil
}

func (m memRuntime) CronJobs(context.Context) ([]batchv1.CronJob, error) { return m.cronjobs, nil }
func (m memRuntime) Jobs(context.Context) ([]batchv1.Job, error)         { return m.jobs, nil }
func (m memRuntime) Pods(context.Context) ([]corev1.Pod, error)          { return m.pods, nil }
func (m memRuntime) LogPaths(_ context.Context, ns, pod string) (map[string]string, error) {
	return m.logs[ns+"/"+pod], nil
}

func meta(ns, name string, created time.Duration) metav1.ObjectMeta {
	return metav1.ObjectMeta{Namespace: ns, Name: name, CreationTimestamp: metav1.NewTime(testNow.Add(-created))}
}

func testRuntime(t *testing.T) memRuntime {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	last := metav1.NewTime(testNow.Add(-90 * time.Second))
	start, end := metav1.NewTime(testNow.Add(-5*time.Minute)), metav1.NewTime(testNow.Add(-4*time.Minute-30*time.Second))
	done := batchv1.JobCondition{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}
	failed := batchv1.JobCondition{Type: batchv1.JobFailed, Status: corev1.ConditionTrue}
	jobLabels := func(job string) map[string]string { return map[string]string{batchv1.JobNameLabel: job} }
	return memRuntime{
		cronjobs: []batchv1.CronJob{
			{ObjectMeta: meta("dev", "heartbeat", 2*time.Hour), Spec: batchv1.CronJobSpec{Schedule: "* * * * *", TimeZone: ptr.To("Europe/Berlin")},
				Status: batchv1.CronJobStatus{LastScheduleTime: &last, Active: []corev1.ObjectReference{{Name: "heartbeat-1"}}}},
			{ObjectMeta: meta("dev", "backup", 26*time.Hour), Spec: batchv1.CronJobSpec{Schedule: "0 2 * * *", Suspend: ptr.To(true)}},
		},
		jobs: []batchv1.Job{
			{ObjectMeta: meta("dev", "heartbeat-1", 5*time.Minute), Spec: batchv1.JobSpec{Completions: ptr.To[int32](1)},
				Status: batchv1.JobStatus{Succeeded: 1, StartTime: &start, CompletionTime: &end, Conditions: []batchv1.JobCondition{done}}},
			{ObjectMeta: meta("dev", "etl", 3*time.Minute), Spec: batchv1.JobSpec{Completions: ptr.To[int32](4)},
				Status: batchv1.JobStatus{Succeeded: 1, StartTime: &start}},
			{ObjectMeta: meta("prod", "report", time.Minute), Spec: batchv1.JobSpec{Parallelism: ptr.To[int32](2)},
				Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{failed}}},
		},
		pods: []corev1.Pod{
			{ObjectMeta: metav1.ObjectMeta{Namespace: "dev", Name: "heartbeat-1-abcde", Labels: jobLabels("heartbeat-1"), CreationTimestamp: metav1.NewTime(testNow.Add(-5 * time.Minute))},
				Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "main"}}},
				Status: corev1.PodStatus{Phase: corev1.PodSucceeded}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "dev", Name: "heartbeat-1-fghij", Labels: jobLabels("heartbeat-1"), CreationTimestamp: metav1.NewTime(testNow.Add(-4 * time.Minute))},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main"}}},
				Status: corev1.PodStatus{Phase: corev1.PodFailed, ContainerStatuses: []corev1.ContainerStatus{{Name: "main", RestartCount: 2,
					State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 42, Reason: "Error"}}}}}},
		},
		fleet: testFleet(),
		runs:  testRuns(),
		logs: map[string]map[string]string{
			"dev/heartbeat-1-abcde": {"main": write("a.log", "first run\n")},
			"dev/heartbeat-1-fghij": {"main": write("b.log", "second run\n")},
		},
	}
}

func TestGetTables(t *testing.T) {
	cases := []struct {
		name, kind, obj string
		f               getFlags
	}{
		{"cronjobs", "cronjobs", "", getFlags{}},
		{"cronjobs-namespace", "cronjobs", "", getFlags{namespace: "dev"}},
		{"cronjobs-wide", "cronjobs", "", getFlags{output: "wide", namespace: "dev"}},
		{"jobs", "jobs", "", getFlags{}},
		{"pods", "pods", "", getFlags{}},
		{"job-by-name-yaml", "jobs", "etl", getFlags{output: "yaml"}},
		{"cronjobs-names", "cronjobs", "", getFlags{output: "name"}},
	}
	rt := testRuntime(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := runGet(context.Background(), &out, rt, tc.kind, tc.obj, tc.f, testNow); err != nil {
				t.Fatal(err)
			}
			assertGolden(t, "get/"+tc.name+".golden", out.Bytes())
		})
	}
}

func TestGetErrors(t *testing.T) {
	rt := testRuntime(t)
	var out bytes.Buffer
	err := runGet(context.Background(), &out, rt, "jobs", "nope", getFlags{}, testNow)
	if err == nil || !strings.Contains(err.Error(), `job "nope" not found`) {
		t.Errorf("missing job: err = %v", err)
	}
	err = runGet(context.Background(), &out, rt, "jobs", "", getFlags{output: "xml"}, testNow)
	if err == nil || !strings.Contains(err.Error(), "unknown output format") {
		t.Errorf("bad output: err = %v", err)
	}
	if _, err := resourceKind("deployments"); err == nil {
		t.Error("resourceKind(deployments) accepted")
	}
	out.Reset()
	if err := runGet(context.Background(), &out, memRuntime{}, "pods", "", getFlags{}, testNow); err != nil || out.String() != "No pods found.\n" {
		t.Errorf("empty: %q, %v", out.String(), err)
	}
}

func TestLogs(t *testing.T) {
	rt := testRuntime(t)
	cases := []struct{ name, arg, want string }{
		{"job prints every pod in order", "heartbeat-1", "==> pod/heartbeat-1-abcde container main <==\nfirst run\n==> pod/heartbeat-1-fghij container main <==\nsecond run\n"},
		{"one pod", "pod/heartbeat-1-fghij", "second run\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := runLogs(context.Background(), &out, rt, tc.arg, "", ""); err != nil {
				t.Fatal(err)
			}
			if out.String() != tc.want {
				t.Errorf("got %q, want %q", out.String(), tc.want)
			}
		})
	}
	var out bytes.Buffer
	if err := runLogs(context.Background(), &out, rt, "ghost", "", ""); err == nil {
		t.Error("unknown job: no error")
	}
}
