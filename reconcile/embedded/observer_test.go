package embedded

import (
	"fmt"
	"slices"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/utils/ptr"
)

type recordingObserver struct{ got []string }

func (r *recordingObserver) JobScheduled(ns, cj string, scheduled, now time.Time) {
	r.got = append(r.got, fmt.Sprintf("scheduled %s/%s delay=%s", ns, cj, now.Sub(scheduled)))
}

func (r *recordingObserver) JobFinished(ns, job, result, reason string) {
	r.got = append(r.got, fmt.Sprintf("finished %s/%s %s %s", ns, job, result, reason))
}

func TestObserverSeesScheduledAndFinishedRuns(t *testing.T) {
	v := newEnv(t)
	obs := &recordingObserver{}
	v.e.opts.Observer = obs
	v.apply(
		testCronJob("cj", "* * * * *", nil),
		testJob("fails", func(j *batchv1.Job) { j.Spec.BackoffLimit = ptr.To[int32](0) }),
	)
	v.exit(v.onlyActivePod("fails"), 1)
	v.at(time.Minute + 2*time.Second) // two seconds late for the first slot
	slot := slotJob("cj", time.Minute)
	v.exit(v.onlyActivePod(slot), 0)
	want := []string{
		"finished ns/fails Failed BackoffLimitExceeded",
		"scheduled ns/cj delay=2s",
		"finished ns/" + slot + " Complete CompletionsReached",
	}
	if !slices.Equal(obs.got, want) {
		t.Fatalf("observed\n%q\nwant\n%q", obs.got, want)
	}
}

type runRecorder struct {
	recordingObserver
	runs []string
}

func (r *runRecorder) RunStarted(s RunStart) {
	r.runs = append(r.runs, fmt.Sprintf("start %s/%s %s scheduled=%t", s.Namespace, s.CronJob, s.Job, !s.Scheduled.IsZero()))
}

func (r *runRecorder) RunFinished(e RunEnd) {
	r.runs = append(r.runs, fmt.Sprintf("end %s/%s %s failed=%t %s exit=%d oom=%t", e.Namespace, e.CronJob, e.Job, e.Failed, e.Reason, e.ExitCode, e.OOMKilled))
}

func TestRunObserverSeesScheduledAndManualRunsWithExitCodes(t *testing.T) {
	v := newEnv(t)
	obs := &runRecorder{}
	v.e.opts.Observer = obs
	v.apply(
		testCronJob("cj", "* * * * *", func(c *batchv1.CronJob) { c.Spec.JobTemplate.Spec.BackoffLimit = ptr.To[int32](0) }),
		testJob("plain", nil), // not a CronJob's: not in the ledger
	)
	v.exit(v.onlyActivePod("plain"), 0)
	v.at(time.Minute + time.Second)
	slot := slotJob("cj", time.Minute)
	v.exit(v.onlyActivePod(slot), 3)
	manual, err := v.e.Trigger("ns", "cj")
	if err != nil {
		t.Fatal(err)
	}
	v.step()
	v.exit(v.onlyActivePod(manual.Name), 0)
	want := []string{
		"start ns/cj " + slot + " scheduled=true",
		"end ns/cj " + slot + " failed=true BackoffLimitExceeded exit=3 oom=false",
		"start ns/cj " + manual.Name + " scheduled=false",
		"end ns/cj " + manual.Name + " failed=false CompletionsReached exit=0 oom=false",
	}
	if !slices.Equal(obs.runs, want) {
		t.Fatalf("runs\n%q\nwant\n%q", obs.runs, want)
	}
	if _, over := v.e.GitSuspend("ns", "cj"); over {
		t.Error("GitSuspend: an override before any suspend")
	}
	if err := v.e.Suspend("ns", "cj", true); err != nil {
		t.Fatal(err)
	}
	if git, over := v.e.GitSuspend("ns", "cj"); !over || git {
		t.Errorf("GitSuspend after jobsync suspend = %t, %t; want false, true", git, over)
	}
}

// concurrencyPolicy Replace deletes the running Job: its run ends, Failed
// with reason Replaced, instead of staying Running in the ledger.
func TestRunObserverSeesAReplacedRunEnd(t *testing.T) {
	v := newEnv(t)
	obs := &runRecorder{}
	v.e.opts.Observer = obs
	v.apply(testCronJob("cj", "* * * * *", func(cj *batchv1.CronJob) { cj.Spec.ConcurrencyPolicy = batchv1.ReplaceConcurrent }))
	v.at(time.Minute + time.Second)
	first := slotJob("cj", time.Minute)
	v.onlyActivePod(first)
	v.at(2*time.Minute + time.Second)
	second := slotJob("cj", 2*time.Minute)
	want := []string{
		"start ns/cj " + first + " scheduled=true",
		"end ns/cj " + first + " failed=true Replaced exit=0 oom=false",
		"start ns/cj " + second + " scheduled=true",
	}
	if !slices.Equal(obs.runs, want) {
		t.Fatalf("runs\n%q\nwant\n%q", obs.runs, want)
	}
}
