package policy

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/jobsync/jobsync/manifests"
)

// TypePolicyViolation is the Finding.Type of error-severity policy findings
// (warnings carry no type).
const TypePolicyViolation = "PolicyViolation"

// Apply adds the policy findings to every checked result, in place, at the
// severities cfg gives for the result's file. It skips results that are not
// checked or did not decode (no Object). now anchors the schedule samples
// (minimum interval, DST transitions in the coming year).
func Apply(results []manifests.Result, cfg Config, now time.Time) {
	for i := range results {
		ApplyTo(&results[i], cfg, now)
	}
}

// ApplyTo is Apply for one result; it is safe to call from several
// goroutines on different results (manifests.Options.Each does).
func ApplyTo(r *manifests.Result, cfg Config, now time.Time) {
	if !r.Checked || r.Object == nil {
		return
	}
	applyOne(r, cfg, now)
}

// hit is one policy finding before severity and suppression.
type hit struct {
	rule    string
	field   string
	message string
}

// object is what the checks look at: the typed, defaulted object and the raw
// document (to tell unset from defaulted).
type object struct {
	kind    string
	raw     map[string]any
	job     *batchv1.Job     // the Job, or nil
	cronJob *batchv1.CronJob // the CronJob, or nil
	now     time.Time
	cfg     Config
	// sched and loc are the CronJob's parsed schedule and zone; nil when
	// either does not parse (or for a Job).
	sched cron.Schedule
	loc   *time.Location
}

func applyOne(r *manifests.Result, cfg Config, now time.Time) {
	o := object{now: now, cfg: cfg}
	switch obj := r.Object.(type) {
	case *batchv1.Job:
		if obj == nil {
			return
		}
		o.kind, o.job = KindJob, obj
	case *batchv1.CronJob:
		if obj == nil {
			return
		}
		o.kind, o.cronJob = KindCronJob, obj
		if s, loc, ok := parseSchedule(obj); ok {
			o.sched, o.loc = s, loc
		}
	default:
		return
	}
	if r.Unstructured != nil {
		o.raw = r.Unstructured.Object
	}
	ignored, hits := ignoreList(o)
	hits = append(hits, runChecks(o)...)
	for _, h := range hits {
		rule, _ := lookup(h.rule)
		if h.rule != RuleIgnoreAnnotation && ignored[h.rule] {
			continue
		}
		f := manifests.Finding{Field: h.field, Message: h.message, Rule: h.rule, Line: r.LineOf(h.field), Hint: rule.Hint}
		switch cfg.severity(rule, r.File) {
		case SeverityError:
			f.Type = TypePolicyViolation
			r.Errors = append(r.Errors, f)
		case SeverityWarning:
			r.Warnings = append(r.Warnings, f)
		}
	}
}

// runChecks runs every rule that applies to the object's kind.
func runChecks(o object) []hit {
	var out []hit
	for _, c := range checks {
		rule, _ := lookup(c.id)
		if slices.Contains(rule.Kinds, o.kind) {
			out = append(out, c.fn(o)...)
		}
	}
	return out
}

// ignoreList reads the jobsync.io/ignore annotation of the object's metadata.
// Unknown ids, and the annotation on a CronJob's jobTemplate (where it would
// only be copied to the Jobs), become findings of RuleIgnoreAnnotation.
func ignoreList(o object) (map[string]bool, []hit) {
	ignored := map[string]bool{}
	var hits []hit
	field := "metadata.annotations[" + IgnoreAnnotation + "]"
	val, found, _ := unstructured.NestedString(o.raw, "metadata", "annotations", IgnoreAnnotation)
	if o.raw == nil {
		val, found = typedAnnotation(o)
	}
	if found {
		for _, id := range strings.Split(val, ",") {
			id = strings.TrimSpace(id)
			if id == "" {
				continue
			}
			if _, ok := lookup(id); !ok {
				hits = append(hits, hit{RuleIgnoreAnnotation, field,
					fmt.Sprintf("unknown rule id %q in %s (known: %s)", id, IgnoreAnnotation, ruleIDs())})
				continue
			}
			ignored[id] = true
		}
	}
	if _, nested, _ := unstructured.NestedString(o.raw, "spec", "jobTemplate", "metadata", "annotations", IgnoreAnnotation); nested {
		hits = append(hits, hit{RuleIgnoreAnnotation, "spec.jobTemplate.metadata.annotations[" + IgnoreAnnotation + "]",
			IgnoreAnnotation + " is only read from the CronJob's own metadata.annotations; on the jobTemplate it suppresses nothing"})
	}
	return ignored, hits
}

// typedAnnotation reads the ignore annotation from the typed object (when the
// raw document is not available).
func typedAnnotation(o object) (string, bool) {
	var ann map[string]string
	if o.job != nil {
		ann = o.job.Annotations
	} else {
		ann = o.cronJob.Annotations
	}
	v, ok := ann[IgnoreAnnotation]
	return v, ok
}
