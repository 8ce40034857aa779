package manifests

import (
	"fmt"
	"sync"
	"sync/atomic"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/jobsync/jobsync/schedule"
)

// RuleScheduleNeverFires is the rule id of the warning for a schedule that
// parses but matches no time (the controller reports InvalidSchedule).
const RuleScheduleNeverFires = "schedule-never-fires"

// jobWarnings returns the API server's warnings for a Job.
func jobWarnings(job *batchv1.Job) []Finding {
	ws := nameWarnings(createMeta(job.ObjectMeta).Name)
	return append(ws, jobSpecWarnings(&job.Spec, field.NewPath("spec"))...)
}

// cronJobWarnings returns the API server's warnings for a CronJob, and a
// warning when its schedule never fires.
func cronJobWarnings(cj *batchv1.CronJob) []Finding {
	ws := nameWarnings(createMeta(cj.ObjectMeta).Name)
	ws = append(ws, jobSpecWarnings(&cj.Spec.JobTemplate.Spec, field.NewPath("spec", "jobTemplate", "spec"))...)
	if cj.Spec.Schedule != "" && scheduleNeverFires(cj.Spec.Schedule) {
		ws = append(ws, Finding{
			Field:   "spec.schedule",
			Message: fmt.Sprintf("schedule %q never fires: no time matches it within five years, so no Job is ever created (the controller reports InvalidSchedule)", cj.Spec.Schedule),
			Rule:    RuleScheduleNeverFires,
			Hint:    "check the day-of-month and month fields (for example there is no 31 February)",
		})
	}
	return ws
}

// neverFires remembers scheduleNeverFires's answers: a repository has few
// distinct schedules, and sampling one costs microseconds. It stops growing
// at maxNeverFires entries.
var (
	neverFires      sync.Map // schedule string → bool
	neverFiresCount atomic.Int32
)

const maxNeverFires = 4096

// scheduleNeverFires reports whether spec parses and matches no time.
func scheduleNeverFires(spec string) bool {
	if v, ok := neverFires.Load(spec); ok {
		return v.(bool)
	}
	sched, err := schedule.ParseCron(spec)
	never := err == nil && schedule.NeverFires(sched)
	if neverFiresCount.Load() < maxNeverFires {
		if _, loaded := neverFires.LoadOrStore(spec, never); !loaded {
			neverFiresCount.Add(1)
		}
	}
	return never
}

// nameWarnings: Job and CronJob names become pod names and hostnames.
func nameWarnings(name string) []Finding {
	msgs := validation.IsDNS1123Label(name)
	if len(msgs) == 0 || name == "" {
		return nil
	}
	return []Finding{{
		Field:   "metadata.name",
		Message: fmt.Sprintf("this is used in Pod names and hostnames, which can result in surprising behavior; a DNS label is recommended: %v", msgs),
		Rule:    RuleUpstream,
	}}
}

// jobSpecWarnings mirrors the API server's WarningsForJobSpec.
func jobSpecWarnings(spec *batchv1.JobSpec, fld *field.Path) []Finding {
	var ws []Finding
	if spec.CompletionMode != nil && *spec.CompletionMode == batchv1.IndexedCompletion {
		c, p := deref(spec.Completions), deref(spec.Parallelism)
		if c > completionsSoftLimit && p > parallelismLimitForHighCompletions {
			ws = append(ws, Finding{
				Field:   fld.String(),
				Message: "In Indexed Jobs with a number of completions higher than 10^5 and a parallelism higher than 10^4, Kubernetes might not be able to track completedIndexes when a big number of indexes fail",
				Rule:    RuleUpstream,
			})
		}
	}
	for _, w := range podTemplateWarnings(&spec.Template, fld.Child("template")) {
		if w.Rule == "" {
			w.Rule = RuleUpstream
		}
		ws = append(ws, w)
	}
	return ws
}

func deref(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}
