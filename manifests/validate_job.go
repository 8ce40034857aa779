package manifests

import (
	"fmt"
	"maps"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Limits the API server applies to Jobs (pkg/apis/batch/validation).
const (
	maxParallelismForIndexedJob             = 100000
	maxFailedIndexesForIndexedJob           = 100000
	completionsSoftLimit                    = 100000
	parallelismLimitForHighCompletions      = 10000
	maxFailedIndexesLimitForHighCompletions = 10000
	maxPodFailurePolicyRules                = 20
	maxOnExitCodesValues                    = 255
	maxOnPodConditionsPatterns              = 20
	maxManagedByLength                      = 63
	maxSucceededIndexesLength               = 64 * 1024
	maxSuccessPolicyRules                   = 20
	// generatedNameSuffix stands for the 5 random characters the API server
	// appends to generateName.
	generatedNameSuffix = "x7k2q"
	// simulatedUID stands for the uid the API server gives a new object.
	simulatedUID = "00000000-0000-4000-8000-000000000000"
	// The unprefixed labels the API server still puts on Job pod templates.
	legacyJobNameLabel       = "job-name"
	legacyControllerUIDLabel = "controller-uid"
)

// ValidateJob validates a defaulted batch/v1 Job as the API server does on
// create: metadata, the generated selector and template labels, the Job spec
// (including the pod template's core rules) and the Indexed name rule. It
// returns every violation with the API server's field paths and cause types.
func ValidateJob(job *batchv1.Job) field.ErrorList {
	meta := createMeta(job.ObjectMeta)
	spec := job.Spec
	manual := spec.ManualSelector != nil && *spec.ManualSelector
	if !manual {
		generateSelector(&spec, meta)
	}
	allErrs := validateObjectMeta(&meta)
	if !manual {
		allErrs = append(allErrs, validateGeneratedSelector(&spec, meta)...)
	}
	specPath := field.NewPath("spec")
	allErrs = append(allErrs, validateJobSpec(&spec, specPath)...)
	if spec.Selector == nil {
		allErrs = append(allErrs, field.Required(specPath.Child("selector"), ""))
	} else {
		allErrs = append(allErrs, metav1validation.ValidateLabelSelector(spec.Selector, metav1validation.LabelSelectorValidationOptions{}, specPath.Child("selector"))...)
	}
	if sel, err := metav1.LabelSelectorAsSelector(spec.Selector); err == nil && !sel.Matches(labels.Set(spec.Template.Labels)) {
		allErrs = append(allErrs, field.Invalid(specPath.Child("template", "metadata", "labels"), spec.Template.Labels, "`selector` does not match template `labels`"))
	}
	return append(allErrs, validateNameAllowsCompletions(&spec, meta.Name)...)
}

// createMeta returns the metadata as the API server validates it on create:
// a name generated from generateName and the request's namespace when unset.
func createMeta(m metav1.ObjectMeta) metav1.ObjectMeta {
	if m.Name == "" && m.GenerateName != "" {
		base := m.GenerateName
		if len(base) > 63-len(generatedNameSuffix) {
			base = base[:63-len(generatedNameSuffix)]
		}
		m.Name = base + generatedNameSuffix
	}
	if m.Namespace == "" {
		m.Namespace = metav1.NamespaceDefault
	}
	m.UID = simulatedUID
	return m
}

func validateObjectMeta(meta *metav1.ObjectMeta) field.ErrorList {
	return apimachineryvalidation.ValidateObjectMeta(meta, true, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
}

// generateSelector does what the API server does for a Job without
// manualSelector: it adds the job-name and controller-uid labels to the
// template (on a copy of the label map) and selects the controller uid.
func generateSelector(spec *batchv1.JobSpec, meta metav1.ObjectMeta) {
	tl := make(map[string]string, len(spec.Template.Labels)+4)
	maps.Copy(tl, spec.Template.Labels)
	for _, k := range []string{legacyJobNameLabel, batchv1.JobNameLabel} {
		if _, ok := tl[k]; !ok {
			tl[k] = meta.Name
		}
	}
	for _, k := range []string{legacyControllerUIDLabel, batchv1.ControllerUidLabel} {
		if _, ok := tl[k]; !ok {
			tl[k] = string(meta.UID)
		}
	}
	spec.Template.Labels = tl
	sel := &metav1.LabelSelector{}
	if spec.Selector != nil {
		sel = spec.Selector.DeepCopy()
	}
	if sel.MatchLabels == nil {
		sel.MatchLabels = map[string]string{}
	}
	if _, ok := sel.MatchLabels[batchv1.ControllerUidLabel]; !ok {
		sel.MatchLabels[batchv1.ControllerUidLabel] = string(meta.UID)
	}
	spec.Selector = sel
}

// validateGeneratedSelector checks that the generated labels are on the
// template and that the selector selects exactly them.
func validateGeneratedSelector(spec *batchv1.JobSpec, meta metav1.ObjectMeta) field.ErrorList {
	var allErrs field.ErrorList
	tplMeta := field.NewPath("spec", "template", "metadata")
	expected := map[string]string{
		legacyControllerUIDLabel:   string(meta.UID),
		legacyJobNameLabel:         meta.Name,
		batchv1.ControllerUidLabel: string(meta.UID),
		batchv1.JobNameLabel:       meta.Name,
	}
	for _, k := range []string{legacyControllerUIDLabel, legacyJobNameLabel, batchv1.ControllerUidLabel, batchv1.JobNameLabel} {
		if v := spec.Template.Labels[k]; v != expected[k] {
			allErrs = append(allErrs, field.Invalid(tplMeta.Child("labels").Key(k), spec.Template.Labels, fmt.Sprintf("must be '%s'", expected[k])))
		}
	}
	if sel, err := metav1.LabelSelectorAsSelector(spec.Selector); err == nil && !sel.Matches(labels.Set(expected)) {
		allErrs = append(allErrs, field.Invalid(field.NewPath("spec", "selector"), spec.Selector, "`selector` not auto-generated"))
	}
	// The generated job-name labels carry the Job's name: a name too long
	// for a label value fails here (the template's other labels are the pod
	// template validation's).
	generated := map[string]string{batchv1.JobNameLabel: meta.Name}
	allErrs = append(allErrs, metav1validation.ValidateLabels(generated, field.NewPath("spec", "template", "labels"))...)
	return allErrs
}

// validateNameAllowsCompletions: an Indexed Job's pods are named
// <job>-<index>, which must be a DNS label.
func validateNameAllowsCompletions(spec *batchv1.JobSpec, name string) field.ErrorList {
	if spec.CompletionMode == nil || *spec.CompletionMode != batchv1.IndexedCompletion || spec.Completions == nil || *spec.Completions <= 0 {
		return nil
	}
	host := fmt.Sprintf("%s-%d", name, *spec.Completions-1)
	if len(validation.IsDNS1123Label(host)) == 0 {
		return nil
	}
	return field.ErrorList{field.Invalid(field.NewPath("metadata", "name"), name, "will not able to create pod with invalid DNS label: "+host)}
}

// validateJobSpec applies the Job spec rules shared by Jobs and CronJob job
// templates (validation.ValidateJob; docs/batch-semantics.md#job-validation).
func validateJobSpec(spec *batchv1.JobSpec, fld *field.Path) field.ErrorList {
	allErrs := validateJobCounts(spec, fld)
	allErrs = append(allErrs, validateManagedBy(spec, fld)...)
	allErrs = append(allErrs, validateCompletionMode(spec, fld)...)
	if spec.PodFailurePolicy != nil {
		allErrs = append(allErrs, validatePodFailurePolicy(spec, fld.Child("podFailurePolicy"))...)
	}
	if spec.SuccessPolicy != nil {
		if spec.CompletionMode == nil || *spec.CompletionMode != batchv1.IndexedCompletion {
			allErrs = append(allErrs, field.Invalid(fld.Child("successPolicy"), *spec.SuccessPolicy, "requires indexed completion mode"))
		} else {
			allErrs = append(allErrs, validateSuccessPolicy(spec, fld.Child("successPolicy"))...)
		}
	}
	allErrs = append(allErrs, validatePodReplacementPolicy(spec, fld.Child("podReplacementPolicy"))...)
	allErrs = append(allErrs, validatePodTemplate(&spec.Template, fld.Child("template"))...)
	return append(allErrs, validateRestartPolicy(spec, fld.Child("template", "spec", "restartPolicy"))...)
}

func validateJobCounts(spec *batchv1.JobSpec, fld *field.Path) field.ErrorList {
	allErrs := nonNegative32(spec.Parallelism, fld.Child("parallelism"))
	allErrs = append(allErrs, nonNegative32(spec.Completions, fld.Child("completions"))...)
	if spec.ActiveDeadlineSeconds != nil {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(*spec.ActiveDeadlineSeconds, fld.Child("activeDeadlineSeconds"))...)
	}
	allErrs = append(allErrs, nonNegative32(spec.BackoffLimit, fld.Child("backoffLimit"))...)
	allErrs = append(allErrs, nonNegative32(spec.TTLSecondsAfterFinished, fld.Child("ttlSecondsAfterFinished"))...)
	allErrs = append(allErrs, nonNegative32(spec.BackoffLimitPerIndex, fld.Child("backoffLimitPerIndex"))...)
	allErrs = append(allErrs, nonNegative32(spec.MaxFailedIndexes, fld.Child("maxFailedIndexes"))...)
	if spec.MaxFailedIndexes != nil && spec.BackoffLimitPerIndex == nil {
		allErrs = append(allErrs, field.Required(fld.Child("backoffLimitPerIndex"), "when maxFailedIndexes is specified"))
	}
	return allErrs
}

// nonNegative32 checks an optional int32 field is ≥ 0.
func nonNegative32(v *int32, fld *field.Path) field.ErrorList {
	if v == nil {
		return nil
	}
	return apimachineryvalidation.ValidateNonnegativeField(int64(*v), fld)
}

func validateManagedBy(spec *batchv1.JobSpec, fld *field.Path) field.ErrorList {
	if spec.ManagedBy == nil {
		return nil
	}
	allErrs := validation.IsDomainPrefixedPath(fld.Child("managedBy"), *spec.ManagedBy)
	if len(*spec.ManagedBy) > maxManagedByLength {
		allErrs = append(allErrs, field.TooLong(fld.Child("managedBy"), "", maxManagedByLength))
	}
	return allErrs
}

func validateRestartPolicy(spec *batchv1.JobSpec, fld *field.Path) field.ErrorList {
	rp := spec.Template.Spec.RestartPolicy
	switch {
	case rp == corev1.RestartPolicyAlways || rp == "":
		return field.ErrorList{field.Required(fld, fmt.Sprintf("valid values: %q, %q", corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever))}
	case rp != corev1.RestartPolicyOnFailure && rp != corev1.RestartPolicyNever:
		return field.ErrorList{field.NotSupported(fld, rp, []corev1.RestartPolicy{corev1.RestartPolicyOnFailure, corev1.RestartPolicyNever})}
	case spec.PodFailurePolicy != nil && rp != corev1.RestartPolicyNever:
		return field.ErrorList{field.Invalid(fld, rp, fmt.Sprintf("only %q is supported when podFailurePolicy is specified", corev1.RestartPolicyNever))}
	}
	return nil
}
