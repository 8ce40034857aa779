package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
)

const examplesDir = "../../examples"

func TestValidateExamplesClean(t *testing.T) {
	for _, path := range []string{examplesDir, examplesDir + "/overlays/dev", examplesDir + "/overlays/prod"} {
		t.Run(strings.TrimPrefix(path, "../../"), func(t *testing.T) {
			// --strict: the examples are meant to be copied, so not even a warning.
			code, out, errs := runValidateCLI(t, "", nil, "validate", "--strict", path)
			if code != exitOK {
				t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, errs)
			}
			if !strings.Contains(out, " 0 invalid (0 errors), 0 warnings") {
				t.Errorf("summary is not clean:\n%s", out)
			}
		})
	}
}

// jsonReport is the -o json contract of DESIGN.md.
type jsonReport struct {
	Results []struct {
		File       string `json:"file"`
		Line       int    `json:"line"`
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Namespace  string `json:"namespace"`
		Name       string `json:"name"`
		Valid      bool   `json:"valid"`
		Errors     []struct {
			Field, Type, Message, Rule string
		} `json:"errors"`
		Warnings []struct {
			Field, Message, Rule string
		} `json:"warnings"`
	} `json:"results"`
	Summary struct {
		Objects, Valid, Invalid, Warnings int
	} `json:"summary"`
}

func TestValidateExamplesBroken(t *testing.T) {
	code, out, errs := runValidateCLI(t, "", nil, "validate", "-o", "json", examplesDir+"/broken")
	if code != exitFindings {
		t.Fatalf("exit %d, want 1\nstderr:\n%s", code, errs)
	}
	var rep jsonReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("-o json is not JSON: %v\n%s", err, out)
	}
	// found maps "file error|warning rule field" (file without its directory).
	found := map[string]bool{}
	for _, r := range rep.Results {
		file := r.File[strings.LastIndex(r.File, "/")+1:]
		for _, e := range r.Errors {
			found[fmt.Sprintf("%s error %s %s", file, e.Rule, e.Field)] = true
			found[fmt.Sprintf("%s error %s %s %s", file, e.Rule, e.Type, e.Field)] = true
		}
		for _, w := range r.Warnings {
			found[fmt.Sprintf("%s warning %s %s", file, w.Rule, w.Field)] = true
		}
	}
	want := []string{
		"bad-quantity.yaml error upstream spec.template.spec.containers[0].resources.limits[cpu]",
		"concurrency-policy-case.yaml error upstream FieldValueNotSupported spec.concurrencyPolicy",
		"cronjob-name-too-long.yaml error upstream FieldValueInvalid metadata.name",
		"duplicate-object.yaml error upstream FieldValueDuplicate metadata.name",
		"indexed-without-completions.yaml error upstream FieldValueRequired spec.completions",
		"job-name-too-long.yaml error upstream spec.template.labels",
		"job-name-too-long.yaml warning upstream metadata.name",
		"missing-image.yaml error upstream FieldValueRequired spec.template.spec.containers[0].image",
		"not-kubernetes.yaml error upstream apiVersion",
		"not-kubernetes.yaml error upstream kind",
		"onfailure-with-pod-failure-policy.yaml error upstream spec.template.spec.restartPolicy",
		"requests-above-limits.yaml error upstream spec.template.spec.containers[0].resources.requests",
		"restart-policy-always.yaml error upstream spec.jobTemplate.spec.template.spec.restartPolicy",
		"schedule-invalid.yaml error upstream FieldValueInvalid spec.schedule",
		"schedule-never-fires.yaml warning schedule-never-fires spec.schedule",
		"schedule-tz-prefix.yaml error upstream spec.schedule",
		"timezone-invalid.yaml error upstream spec.timeZone",
		"unknown-field.yaml error upstream spec.startingDeadline",
		"v1beta1-cronjob.yaml error upstream apiVersion",
		"volume-mount-unknown.yaml error upstream FieldValueNotFound spec.template.spec.containers[0].volumeMounts[0].name",
		"wrong-type.yaml error upstream spec.backoffLimit",
		"yaml11-boolean.yaml error upstream metadata.labels",
		"binary.yaml error upstream ",
		"alias-bomb.yaml error upstream ",
		"empty.yaml warning upstream ",
		// policies
		"policy-cronjob.yaml error env-literal-secret PolicyViolation spec.jobTemplate.spec.template.spec.containers[0].env[0].value",
		"policy-cronjob.yaml warning cronjob-concurrency-unset spec.concurrencyPolicy",
		"policy-cronjob.yaml warning cronjob-starting-deadline-unset spec.startingDeadlineSeconds",
		"policy-cronjob.yaml warning cronjob-timezone-unset spec.timeZone",
		"policy-cronjob.yaml warning cronjob-history-limits spec.successfulJobsHistoryLimit",
		"policy-cronjob.yaml warning cronjob-history-limits spec.failedJobsHistoryLimit",
		"policy-cronjob.yaml warning cronjob-schedule-too-frequent spec.schedule",
		"policy-cronjob.yaml warning job-active-deadline-unset spec.jobTemplate.spec.activeDeadlineSeconds",
		"policy-cronjob.yaml warning restart-policy-on-failure spec.jobTemplate.spec.template.spec.restartPolicy",
		"policy-cronjob.yaml warning image-tag-mutable spec.jobTemplate.spec.template.spec.containers[0].image",
		"policy-cronjob.yaml warning container-resources-unset spec.jobTemplate.spec.template.spec.containers[0].resources",
		"policy-schedule-dst.yaml warning cronjob-schedule-dst spec.schedule",
		"policy-schedule-dst.yaml warning cronjob-starting-deadline-too-short spec.startingDeadlineSeconds",
		"policy-job.yaml warning ignore-annotation-invalid metadata.annotations[jobsync.io/ignore]",
		"policy-job.yaml warning job-ttl-unset spec.ttlSecondsAfterFinished",
		"policy-job.yaml warning job-active-deadline-unset spec.activeDeadlineSeconds",
	}
	for _, w := range want {
		if !found[w] {
			t.Errorf("missing finding %q", w)
		}
	}
	if t.Failed() {
		keys := make([]string, 0, len(found))
		for k := range found {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		t.Logf("found:\n%s", strings.Join(keys, "\n"))
	}
	// The other kind is listed, not checked, and valid.
	var other bool
	for _, r := range rep.Results {
		if r.Kind == "Service" && r.Name == "other-kind" && r.Valid && len(r.Errors) == 0 {
			other = true
		}
	}
	if !other {
		t.Error("other-kind.yaml: want a valid, unchecked Service/other-kind result")
	}
	if rep.Summary.Objects != len(rep.Results) || rep.Summary.Valid+rep.Summary.Invalid != rep.Summary.Objects {
		t.Errorf("summary %+v does not add up over %d results", rep.Summary, len(rep.Results))
	}
}
