package embedded

import (
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/utils/ptr"
)

func TestCronJobMissedSchedules(t *testing.T) {
	cases := []struct {
		name     string
		sds      *int64
		wantWarn bool
	}{
		{"150 missed, no startingDeadlineSeconds: warning and the latest slot", nil, true},
		{"150 missed, startingDeadlineSeconds 200: the latest slot, no warning", ptr.To[int64](200), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newEnv(t)
			v.apply(testCronJob("cj", "* * * * *", func(cj *batchv1.CronJob) { cj.Spec.StartingDeadlineSeconds = tc.sds }))
			if len(v.jobs()) != 0 {
				t.Fatalf("a Job before the first slot: %s", jobNames(v.jobs()))
			}
			v.at(150*time.Minute + 30*time.Second)
			want := slotJob("cj", 150*time.Minute)
			if got := jobNames(v.jobs()); got != want {
				t.Fatalf("jobs %q, want only %q", got, want)
			}
			if got := hasEvent(v.events(KindCronJob, "cj"), ReasonTooManyMissedTimes); got != tc.wantWarn {
				t.Fatalf("TooManyMissedTimes event %t, want %t", got, tc.wantWarn)
			}
			j := v.job(want)
			if ts := j.Annotations[batchv1.CronJobScheduledTimestampAnnotation]; ts != "2026-03-02T12:30:00Z" {
				t.Fatalf("scheduled-timestamp %q", ts)
			}
			if lst := v.cronJob("cj").Status.LastScheduleTime; lst == nil || !lst.Time.Equal(t0.Add(150*time.Minute)) {
				t.Fatalf("lastScheduleTime %v", lst)
			}
			// The same slot never makes a second Job, even after a restart.
			v.crash()
			v.open()
			v.at(150*time.Minute + 40*time.Second)
			if got := jobNames(v.jobs()); got != want {
				t.Fatalf("after restart jobs %q, want only %q", got, want)
			}
		})
	}
}

func TestCronJobStartingDeadlineMissed(t *testing.T) {
	v := newEnv(t)
	v.apply(testCronJob("cj", "0 * * * *", func(cj *batchv1.CronJob) { cj.Spec.StartingDeadlineSeconds = ptr.To[int64](30) }))
	v.at(60*time.Minute + 45*time.Second) // 45 s late for the 11:00 slot, sds 30
	if n := len(v.jobs()); n != 0 {
		t.Fatalf("a slot missed by more than startingDeadlineSeconds ran: %s", jobNames(v.jobs()))
	}
	v.at(120*time.Minute + 10*time.Second)
	if got, want := jobNames(v.jobs()), slotJob("cj", 120*time.Minute); got != want {
		t.Fatalf("jobs %q, want %q", got, want)
	}
}

func TestCronJobTimeZone(t *testing.T) {
	v := newEnv(t)
	// 09:00 in Seoul is 00:00 UTC.
	v.apply(testCronJob("cj", "0 9 * * *", func(cj *batchv1.CronJob) { cj.Spec.TimeZone = ptr.To("Asia/Seoul") }))
	v.at(14*time.Hour - time.Minute)
	if len(v.jobs()) != 0 {
		t.Fatalf("ran before 09:00 Seoul: %s", jobNames(v.jobs()))
	}
	v.at(14*time.Hour + time.Second)
	js := v.jobs()
	if len(js) != 1 || js[0].Name != slotJob("cj", 14*time.Hour) {
		t.Fatalf("jobs %q, want %s", jobNames(js), slotJob("cj", 14*time.Hour))
	}
	if ts := js[0].Annotations[batchv1.CronJobScheduledTimestampAnnotation]; ts != "2026-03-03T09:00:00+09:00" {
		t.Fatalf("scheduled-timestamp %q, want RFC 3339 in the CronJob's zone", ts)
	}
}

func TestCronJobConcurrencyPolicy(t *testing.T) {
	cases := []struct {
		name   string
		policy batchv1.ConcurrencyPolicy
		// after the second slot (first Job still running)
		wantJobs string
		killed   bool
	}{
		{"Allow runs both", batchv1.AllowConcurrent, slotJob("cj", time.Minute) + "," + slotJob("cj", 2*time.Minute), false},
		{"Forbid skips while active", batchv1.ForbidConcurrent, slotJob("cj", time.Minute), false},
		{"Replace kills the running one", batchv1.ReplaceConcurrent, slotJob("cj", 2*time.Minute), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newEnv(t)
			v.apply(testCronJob("cj", "* * * * *", func(cj *batchv1.CronJob) { cj.Spec.ConcurrencyPolicy = tc.policy }))
			v.at(time.Minute + time.Second)
			first := slotJob("cj", time.Minute)
			pod := v.onlyActivePod(first)
			v.at(2*time.Minute + time.Second)
			if got := jobNames(v.jobs()); got != tc.wantJobs {
				t.Fatalf("jobs %q, want %q", got, tc.wantJobs)
			}
			if got := v.runner.handle(t, pod).killedWith() != ""; got != tc.killed {
				t.Fatalf("first pod killed %t, want %t", got, tc.killed)
			}
			if tc.policy == batchv1.ForbidConcurrent && !hasEvent(v.events(KindCronJob, "cj"), ReasonJobAlreadyActive) {
				t.Fatal("no JobAlreadyActive event")
			}
			if n := len(v.cronJob("cj").Status.Active); n != len(splitNames(tc.wantJobs)) {
				t.Fatalf("status.active has %d, want %d", n, len(splitNames(tc.wantJobs)))
			}
		})
	}
}

func splitNames(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return out
}

func TestCronJobForbidLateStart(t *testing.T) {
	v := newEnv(t)
	v.apply(testCronJob("cj", "*/10 * * * *", func(cj *batchv1.CronJob) {
		cj.Spec.ConcurrencyPolicy = batchv1.ForbidConcurrent
		cj.Spec.StartingDeadlineSeconds = ptr.To[int64](120)
	}))
	v.at(10*time.Minute + time.Second)
	first := slotJob("cj", 10*time.Minute)
	pod := v.onlyActivePod(first)
	v.at(20*time.Minute + time.Second) // slot 10:20 skipped: the 10:10 Job still runs
	if len(v.jobs()) != 1 {
		t.Fatalf("Forbid started a second Job: %s", jobNames(v.jobs()))
	}
	if lst := v.cronJob("cj").Status.LastScheduleTime; !lst.Time.Equal(t0.Add(10 * time.Minute)) {
		t.Fatalf("lastScheduleTime advanced to %v on a skipped slot", lst)
	}
	v.clock.SetTime(t0.Add(21 * time.Minute)) // the first Job ends 60 s late, inside sds 120
	v.exit(pod, 0)
	late := slotJob("cj", 20*time.Minute)
	if v.job(late) == nil {
		t.Fatalf("the 10:20 slot did not start late: jobs %s", jobNames(v.jobs()))
	}
	if ts := v.job(late).Annotations[batchv1.CronJobScheduledTimestampAnnotation]; ts != "2026-03-02T10:20:00Z" {
		t.Fatalf("late Job scheduled-timestamp %q", ts)
	}
}

func TestCronJobForbidTooLateIsMissed(t *testing.T) {
	v := newEnv(t)
	v.apply(testCronJob("cj", "*/10 * * * *", func(cj *batchv1.CronJob) {
		cj.Spec.ConcurrencyPolicy = batchv1.ForbidConcurrent
		cj.Spec.StartingDeadlineSeconds = ptr.To[int64](120)
	}))
	v.at(10*time.Minute + time.Second)
	pod := v.onlyActivePod(slotJob("cj", 10*time.Minute))
	v.at(20*time.Minute + time.Second)
	v.clock.SetTime(t0.Add(25 * time.Minute)) // 5 min after the 10:20 slot: beyond sds
	v.exit(pod, 0)
	if len(v.jobs()) != 1 {
		t.Fatalf("a slot older than startingDeadlineSeconds started: %s", jobNames(v.jobs()))
	}
	v.at(30*time.Minute + time.Second)
	if v.job(slotJob("cj", 30*time.Minute)) == nil {
		t.Fatalf("the next slot did not run: %s", jobNames(v.jobs()))
	}
}

func TestCronJobSuspendResume(t *testing.T) {
	v := newEnv(t)
	v.apply(testCronJob("cj", "* * * * *", nil))
	if err := v.e.Suspend("ns", "cj", true); err != nil {
		t.Fatal(err)
	}
	v.at(5*time.Minute + 10*time.Second)
	if len(v.jobs()) != 0 {
		t.Fatalf("a suspended CronJob ran: %s", jobNames(v.jobs()))
	}
	if err := v.e.Suspend("ns", "cj", false); err != nil {
		t.Fatal(err)
	}
	v.step()
	// Runs missed while suspended count as missed: the latest one runs now.
	if got, want := jobNames(v.jobs()), slotJob("cj", 5*time.Minute); got != want {
		t.Fatalf("after resume jobs %q, want %q", got, want)
	}
	// The local override outlives a Git update that leaves spec.suspend alone...
	if err := v.e.Suspend("ns", "cj", true); err != nil {
		t.Fatal(err)
	}
	v.apply(testCronJob("cj", "* * * * *", func(cj *batchv1.CronJob) { cj.Spec.JobTemplate.Labels = map[string]string{"v": "2"} }))
	if !ptr.Deref(v.cronJob("cj").Spec.Suspend, false) {
		t.Fatal("a Git update that did not touch spec.suspend dropped the local suspend")
	}
	// ...and Git changing spec.suspend wins over a local resume.
	if err := v.e.Suspend("ns", "cj", false); err != nil {
		t.Fatal(err)
	}
	v.apply(testCronJob("cj", "* * * * *", func(cj *batchv1.CronJob) {
		cj.Spec.JobTemplate.Labels = map[string]string{"v": "2"}
		cj.Spec.Suspend = ptr.To(true)
	}))
	if !ptr.Deref(v.cronJob("cj").Spec.Suspend, false) || !hasEvent(v.events(KindCronJob, "cj"), ReasonOverrideCleared) {
		t.Fatal("Git's spec.suspend change did not win over the local override")
	}
}

func TestCronJobHistoryLimits(t *testing.T) {
	v := newEnv(t)
	v.apply(testCronJob("cj", "* * * * *", func(cj *batchv1.CronJob) {
		cj.Spec.SuccessfulJobsHistoryLimit = ptr.To[int32](2)
		cj.Spec.FailedJobsHistoryLimit = ptr.To[int32](1)
	}))
	codes := []int32{0, 1, 0, 0, 1, 0}
	for i, code := range codes {
		d := time.Duration(i+1) * time.Minute
		v.at(d + time.Second)
		v.exit(v.onlyActivePod(slotJob("cj", d)), code)
	}
	v.at(6*time.Minute + 30*time.Second)
	want := slotJob("cj", 4*time.Minute) + "," + slotJob("cj", 5*time.Minute) + "," + slotJob("cj", 6*time.Minute)
	if got := jobNames(v.jobs()); got != want {
		t.Fatalf("jobs %q, want the last 2 succeeded and the last failed: %q", got, want)
	}
	if lst := v.cronJob("cj").Status.LastSuccessfulTime; lst == nil || !lst.Time.Equal(t0.Add(6*time.Minute+time.Second)) {
		t.Fatalf("lastSuccessfulTime %v", lst)
	}
}

func TestCronJobTemplateUpdateAffectsOnlyFutureJobs(t *testing.T) {
	v := newEnv(t)
	v.apply(testCronJob("cj", "* * * * *", nil))
	v.at(time.Minute + time.Second)
	v.apply(testCronJob("cj", "* * * * *", func(cj *batchv1.CronJob) { cj.Spec.JobTemplate.Labels = map[string]string{"v": "2"} }))
	if j := v.job(slotJob("cj", time.Minute)); j == nil || j.Labels["v"] != "" {
		t.Fatalf("the running Job changed or vanished: %+v", j)
	}
	v.at(2*time.Minute + time.Second)
	if j := v.job(slotJob("cj", 2*time.Minute)); j == nil || j.Labels["v"] != "2" {
		t.Fatalf("the next Job does not use the new template: %+v", j)
	}
	if cj := v.cronJob("cj"); !cj.CreationTimestamp.Time.Equal(t0) || len(cj.Status.Active) != 2 {
		t.Fatalf("the update reset the CronJob: created %v, active %d", cj.CreationTimestamp, len(cj.Status.Active))
	}
}

func TestCronJobInvalidSchedule(t *testing.T) {
	v := newEnv(t)
	v.apply(testCronJob("cj", "0 0 31 2 *", nil))
	v.at(24 * time.Hour)
	if len(v.jobs()) != 0 || !hasEvent(v.events(KindCronJob, "cj"), ReasonInvalidSchedule) {
		t.Fatalf("want no Job and an InvalidSchedule event, got jobs %q events %+v", jobNames(v.jobs()), v.events(KindCronJob, "cj"))
	}
}

func TestTrigger(t *testing.T) {
	v := newEnv(t)
	v.apply(testCronJob("cj", "0 0 1 1 *", nil))
	j, err := v.e.Trigger("ns", "cj")
	if err != nil {
		t.Fatal(err)
	}
	if len(j.Name) != len("cj-manual-abc") || j.Name[:10] != "cj-manual-" || j.Annotations[AnnotationInstantiate] != "manual" {
		t.Fatalf("job %s annotations %v", j.Name, j.Annotations)
	}
	if _, ok := j.Annotations[batchv1.CronJobScheduledTimestampAnnotation]; ok {
		t.Fatal("a manual Job has a scheduled timestamp")
	}
	v.step()
	v.onlyActivePod(j.Name)
	if _, err := v.e.Trigger("ns", "nope"); err == nil {
		t.Fatal("Trigger of a missing CronJob succeeded")
	}
}

// TestCronJobSubMinuteSlotsShareOneJob: Job names have minute resolution, so
// two slots of one minute map to one Job; the second is AlreadyExists, which
// is not an error, does not make a second Job, and does not put the finished
// Job back into status.active.
func TestCronJobSubMinuteSlotsShareOneJob(t *testing.T) {
	v := newEnv(t)
	v.apply(testCronJob("cj", "@every 20s", nil))
	v.at(20*time.Second + time.Second)
	name := slotJob("cj", 0)
	v.exit(v.onlyActivePod(name), 0)
	v.at(40*time.Second + time.Second)
	if got := jobNames(v.jobs()); got != name {
		t.Fatalf("jobs %q, want only %q", got, name)
	}
	cj := v.cronJob("cj")
	if len(cj.Status.Active) != 0 {
		t.Fatalf("status.active %+v: the finished Job came back", cj.Status.Active)
	}
	if lst := cj.Status.LastScheduleTime; lst == nil || !lst.Time.Equal(t0.Add(40*time.Second)) {
		t.Fatalf("lastScheduleTime %v, want the 40 s slot", lst)
	}
	v.at(60*time.Second + time.Second)
	if v.job(slotJob("cj", time.Minute)) == nil {
		t.Fatalf("the next minute's slot did not run: %s", jobNames(v.jobs()))
	}
}
