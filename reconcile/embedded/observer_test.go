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
