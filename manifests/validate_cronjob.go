package manifests

import (
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/jobsync/jobsync/schedule"
)

// maxCronJobNameLength is 63 minus the 11 characters of the "-<minutes>"
// suffix of the Jobs a CronJob creates.
const maxCronJobNameLength = 52

// ValidateCronJob validates a defaulted batch/v1 CronJob as the API server
// does on create: metadata, the 52-character name limit, schedule, timeZone,
// concurrencyPolicy, history limits and the job template (Job spec rules,
// no selector, no manualSelector). It returns every violation.
func ValidateCronJob(cj *batchv1.CronJob) field.ErrorList {
	meta := createMeta(cj.ObjectMeta)
	allErrs := validateObjectMeta(&meta)
	allErrs = append(allErrs, validateCronJobSpec(&cj.Spec, field.NewPath("spec"))...)
	if len(meta.Name) > maxCronJobNameLength {
		allErrs = append(allErrs, field.Invalid(field.NewPath("metadata", "name"), meta.Name, "must be no more than 52 characters"))
	}
	return allErrs
}

func validateCronJobSpec(spec *batchv1.CronJobSpec, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if spec.Schedule == "" {
		allErrs = append(allErrs, field.Required(fld.Child("schedule"), ""))
	} else {
		allErrs = append(allErrs, validateSchedule(spec.Schedule, fld.Child("schedule"))...)
	}
	if spec.StartingDeadlineSeconds != nil {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(*spec.StartingDeadlineSeconds, fld.Child("startingDeadlineSeconds"))...)
	}
	allErrs = append(allErrs, validateTimeZone(spec.TimeZone, fld.Child("timeZone"))...)
	allErrs = append(allErrs, requiredOneOf(spec.ConcurrencyPolicy, fld.Child("concurrencyPolicy"),
		batchv1.AllowConcurrent, batchv1.ForbidConcurrent, batchv1.ReplaceConcurrent)...)
	allErrs = append(allErrs, validateJobTemplate(&spec.JobTemplate, fld.Child("jobTemplate"))...)
	allErrs = append(allErrs, nonNegative32(spec.SuccessfulJobsHistoryLimit, fld.Child("successfulJobsHistoryLimit"))...)
	return append(allErrs, nonNegative32(spec.FailedJobsHistoryLimit, fld.Child("failedJobsHistoryLimit"))...)
}

// validateSchedule parses the schedule as the API server does (robfig/cron
// ParseStandard, panics recovered) and refuses TZ= / CRON_TZ= on create.
func validateSchedule(s string, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if _, err := schedule.ParseCron(s); err != nil {
		allErrs = append(allErrs, field.Invalid(fld, s, err.Error()))
	}
	if strings.Contains(s, "TZ") {
		allErrs = append(allErrs, field.Invalid(fld, s, "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"))
	}
	return allErrs
}

// validateTimeZone applies the API server's timeZone rules (schedule
// embeds the IANA database, so the answer does not depend on the host).
func validateTimeZone(tz *string, fld *field.Path) field.ErrorList {
	if tz == nil {
		return nil
	}
	err := schedule.ValidateTimeZone(*tz)
	if err == nil {
		return nil
	}
	allErrs := field.ErrorList{field.Invalid(fld, *tz, err.Error())}
	// "local" in another case is both not explicit and not a zone name.
	if strings.EqualFold(*tz, "Local") {
		if _, lerr := time.LoadLocation(*tz); lerr != nil {
			allErrs = append(allErrs, field.Invalid(fld, *tz, lerr.Error()))
		}
	}
	return allErrs
}

// validateJobTemplate: the Job spec rules, and the selector is always generated.
func validateJobTemplate(t *batchv1.JobTemplateSpec, fld *field.Path) field.ErrorList {
	specPath := fld.Child("spec")
	allErrs := validateJobSpec(&t.Spec, specPath)
	if t.Spec.Selector != nil {
		allErrs = append(allErrs, field.Invalid(specPath.Child("selector"), t.Spec.Selector, "`selector` will be auto-generated"))
	}
	if t.Spec.ManualSelector != nil && *t.Spec.ManualSelector {
		allErrs = append(allErrs, field.NotSupported(specPath.Child("manualSelector"), t.Spec.ManualSelector, []string{"nil", "false"}))
	}
	return allErrs
}
