package web

import (
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

// objects is a target's objects, as the embedded runtime lists them.
type objects struct {
	cjs  []batchv1.CronJob
	jobs []batchv1.Job
	pods []corev1.Pod
	logs map[string]map[string]string
}

func (o objects) CronJobs() []batchv1.CronJob { return o.cjs }
func (o objects) Jobs() []batchv1.Job         { return o.jobs }
func (o objects) Pods() []corev1.Pod          { return o.pods }
func (o objects) LogPaths(ns, pod string) (map[string]string, error) {
	return o.logs[ns+"/"+pod], nil
}

func testJob(name, owner string, created time.Time, cond batchv1.JobConditionType, reason string, manual bool) batchv1.Job {
	j := batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: "batch", Name: name, CreationTimestamp: metav1.NewTime(created),
		OwnerReferences: []metav1.OwnerReference{{Kind: "CronJob", Name: owner}},
		Annotations:     map[string]string{batchv1.CronJobScheduledTimestampAnnotation: created.Add(-2 * time.Second).Format(time.RFC3339)}}}
	if manual {
		j.Annotations = map[string]string{annotationInstantiate: "manual"}
	}
	if cond != "" {
		j.Status.Conditions = []batchv1.JobCondition{{Type: cond, Status: corev1.ConditionTrue, Reason: reason,
			LastTransitionTime: metav1.NewTime(created.Add(time.Minute))}}
	}
	return j
}

func TestObjectsView(t *testing.T) {
	t0 := time.Date(2027, 3, 10, 10, 0, 0, 0, time.UTC)
	src := objects{
		cjs: []batchv1.CronJob{
			{ObjectMeta: metav1.ObjectMeta{Namespace: "batch", Name: "report"}, Spec: batchv1.CronJobSpec{Schedule: "0 * * * *", TimeZone: ptr.To("Europe/Paris")}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "batch", Name: "backup"}, Spec: batchv1.CronJobSpec{Schedule: "30 2 * * *"}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "batch", Name: "off"}, Spec: batchv1.CronJobSpec{Schedule: "@daily", Suspend: ptr.To(true)}},
		},
		jobs: []batchv1.Job{
			testJob("report-2", "report", t0.Add(time.Hour), batchv1.JobFailed, "BackoffLimitExceeded", false),
			testJob("report-1", "report", t0, batchv1.JobComplete, "", false),
			testJob("report-3", "report", t0.Add(2*time.Hour), "", "", false),
			testJob("backup-1", "backup", t0, batchv1.JobFailed, "DeadlineExceeded", false),
			testJob("backup-2", "backup", t0.Add(time.Hour), batchv1.JobComplete, "", true),
			testJob("loose", "", t0, batchv1.JobComplete, "", false),
		},
	}
	v := ObjectsView(src, func() time.Time { return t0.Add(150 * time.Minute) })
	all := v.CronJobs()
	if len(all) != 3 || all[0].Name != "backup" || all[2].Name != "report" {
		t.Fatalf("CronJobs: %+v, want backup, off, report", all)
	}
	report, ok := v.CronJob("batch", "report")
	if !ok {
		t.Fatal("report not found")
	}
	if report.Health.State != fleet.StateFailing || report.Health.Reason != "BackoffLimitExceeded" || report.LastResult != fleet.ResultFailed {
		t.Errorf("report health %+v last %s, want Failing BackoffLimitExceeded", report.Health, report.LastResult)
	}
	if want := time.Date(2027, 3, 10, 13, 0, 0, 0, time.UTC); !report.Next.Equal(want) {
		t.Errorf("report next %v, want %v", report.Next, want)
	}
	if len(report.Recent) != 3 || report.Recent[2].Result != fleet.ResultRunning || report.Recent[0].Skew() != 2*time.Second {
		t.Errorf("report recent %+v, want 3 runs oldest first, the newest running, skew 2s", report.Recent)
	}
	backup, _ := v.CronJob("batch", "backup")
	if backup.Health.State != fleet.StateHealthy || !backup.LastSuccess.Equal(t0.Add(61*time.Minute)) {
		t.Errorf("backup %+v, want Healthy after its manual success", backup.Health)
	}
	runs := v.Runs("batch", "backup", 1)
	if len(runs) != 1 || runs[0].Job != "backup-2" || runs[0].Trigger != fleet.TriggerManual || !runs[0].Scheduled.IsZero() {
		t.Errorf("backup runs %+v, want the manual backup-2 only", runs)
	}
	if off, _ := v.CronJob("batch", "off"); off.Health.State != fleet.StateSuspended || !off.Next.IsZero() {
		t.Errorf("off %+v next %v, want Suspended and no next run", off.Health, off.Next)
	}
	if _, ok := v.CronJob("batch", "nope"); ok {
		t.Error("nope found")
	}
}

func TestPodLogs(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "main.log")
	if err := os.WriteFile(path, []byte("hello from main\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src := objects{
		pods: []corev1.Pod{
			{ObjectMeta: metav1.ObjectMeta{Namespace: "batch", Name: "report-1-abc", OwnerReferences: []metav1.OwnerReference{{Kind: "Job", Name: "report-1"}}}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "batch", Name: "other-1-xyz", Labels: map[string]string{"batch.kubernetes.io/job-name": "other-1"}}},
		},
		logs: map[string]map[string]string{"batch/report-1-abc": {"main": path}, "batch/other-1-xyz": {"main": "/nonexistent"}},
	}
	srcs, err := PodLogs(src)("batch", "report-1")
	if err != nil || len(srcs) != 1 || srcs[0].Name != "report-1-abc/main" {
		t.Fatalf("logs %+v %v, want report-1-abc/main", srcs, err)
	}
	if ls := readLog(srcs[0], 1024); !strings.Contains(ls.Text, "hello from main") || ls.Err != "" {
		t.Errorf("log %+v, want the file's text", ls)
	}
	if srcs, _ := PodLogs(src)("batch", "other-1"); len(srcs) != 1 {
		t.Errorf("logs of other-1 by label: %+v", srcs)
	}
}

// TestPagesOverObjectsView serves the pages over ObjectsView, with a CronJob
// that has no run yet.
func TestPagesOverObjectsView(t *testing.T) {
	t0 := time.Date(2027, 3, 10, 10, 0, 0, 0, time.UTC)
	src := objects{cjs: []batchv1.CronJob{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "batch", Name: "fresh"}, Spec: batchv1.CronJobSpec{Schedule: "30 2 * * *", TimeZone: ptr.To("America/New_York")}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "batch", Name: "report"}, Spec: batchv1.CronJobSpec{Schedule: "0 * * * *"}},
	}, jobs: []batchv1.Job{testJob("report-1", "report", t0, batchv1.JobFailed, "DeadlineExceeded", false)}}
	o := DefaultOptions()
	o.View, o.Now = ObjectsView(src, func() time.Time { return t0 }), func() time.Time { return t0 }
	h := New(o)
	for target, want := range map[string]string{
		"/":                                  "Failing",
		"/cronjobs/batch/fresh":              "No runs yet.",
		"/cronjobs/batch/report":             "DeadlineExceeded",
		"/schedule?week=2027-03-08&cell=0-7": `href="/cronjobs/batch/fresh"`,
		"/revision":                          "none yet",
	} {
		rec := get(t, h, "GET", target)
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), want) {
			t.Errorf("GET %s: %d, want 200 with %q", target, rec.Code, want)
			continue
		}
		assertValidHTML(t, rec.Body.Bytes())
	}
}
