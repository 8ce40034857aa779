package manifests

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	podFailurePolicyActions = []batchv1.PodFailurePolicyAction{
		batchv1.PodFailurePolicyActionCount, batchv1.PodFailurePolicyActionFailIndex,
		batchv1.PodFailurePolicyActionFailJob, batchv1.PodFailurePolicyActionIgnore,
	}
	onExitCodesOperators = []batchv1.PodFailurePolicyOnExitCodesOperator{
		batchv1.PodFailurePolicyOnExitCodesOpIn, batchv1.PodFailurePolicyOnExitCodesOpNotIn,
	}
	onPodConditionsStatuses = []corev1.ConditionStatus{corev1.ConditionFalse, corev1.ConditionTrue, corev1.ConditionUnknown}
	podReplacementPolicies  = []batchv1.PodReplacementPolicy{batchv1.Failed, batchv1.TerminatingOrFailed}
)

// validateCompletionMode checks completionMode and the Indexed/NonIndexed
// rules of validation.ValidateJob (docs/batch-semantics.md#job-validation).
func validateCompletionMode(spec *batchv1.JobSpec, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	indexed := spec.CompletionMode != nil && *spec.CompletionMode == batchv1.IndexedCompletion
	if spec.CompletionMode != nil && *spec.CompletionMode != batchv1.NonIndexedCompletion && !indexed {
		allErrs = append(allErrs, field.NotSupported(fld.Child("completionMode"), spec.CompletionMode, []batchv1.CompletionMode{batchv1.NonIndexedCompletion, batchv1.IndexedCompletion}))
	}
	if indexed {
		allErrs = append(allErrs, validateIndexed(spec, fld)...)
	}
	if spec.CompletionMode == nil || *spec.CompletionMode == batchv1.NonIndexedCompletion {
		if spec.BackoffLimitPerIndex != nil {
			allErrs = append(allErrs, field.Invalid(fld.Child("backoffLimitPerIndex"), *spec.BackoffLimitPerIndex, "requires indexed completion mode"))
		}
		if spec.MaxFailedIndexes != nil {
			allErrs = append(allErrs, field.Invalid(fld.Child("maxFailedIndexes"), *spec.MaxFailedIndexes, "requires indexed completion mode"))
		}
	}
	return allErrs
}

func validateIndexed(spec *batchv1.JobSpec, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	mode := batchv1.IndexedCompletion
	if spec.Completions == nil {
		allErrs = append(allErrs, field.Required(fld.Child("completions"), fmt.Sprintf("when completion mode is %s", mode)))
	}
	if spec.Parallelism != nil && *spec.Parallelism > maxParallelismForIndexedJob {
		allErrs = append(allErrs, field.Invalid(fld.Child("parallelism"), *spec.Parallelism, fmt.Sprintf("must be less than or equal to %d when completion mode is %s", maxParallelismForIndexedJob, mode)))
	}
	if spec.Completions != nil && spec.MaxFailedIndexes != nil && *spec.MaxFailedIndexes > *spec.Completions {
		allErrs = append(allErrs, field.Invalid(fld.Child("maxFailedIndexes"), *spec.MaxFailedIndexes, "must be less than or equal to completions"))
	}
	if spec.MaxFailedIndexes != nil && *spec.MaxFailedIndexes > maxFailedIndexesForIndexedJob {
		allErrs = append(allErrs, field.Invalid(fld.Child("maxFailedIndexes"), *spec.MaxFailedIndexes, fmt.Sprintf("must be less than or equal to %d", maxFailedIndexesForIndexedJob)))
	}
	if spec.Completions == nil || *spec.Completions <= completionsSoftLimit || spec.BackoffLimitPerIndex == nil {
		return allErrs
	}
	high := fmt.Sprintf("when completions are above %d and used with backoff limit per index", completionsSoftLimit)
	if spec.MaxFailedIndexes == nil {
		allErrs = append(allErrs, field.Required(fld.Child("maxFailedIndexes"), fmt.Sprintf("must be specified when completions is above %d", completionsSoftLimit)))
	}
	if spec.Parallelism != nil && *spec.Parallelism > parallelismLimitForHighCompletions {
		allErrs = append(allErrs, field.Invalid(fld.Child("parallelism"), *spec.Parallelism, fmt.Sprintf("must be less than or equal to %d %s", parallelismLimitForHighCompletions, high)))
	}
	if spec.MaxFailedIndexes != nil && *spec.MaxFailedIndexes > maxFailedIndexesLimitForHighCompletions {
		allErrs = append(allErrs, field.Invalid(fld.Child("maxFailedIndexes"), *spec.MaxFailedIndexes, fmt.Sprintf("must be less than or equal to %d %s", maxFailedIndexesLimitForHighCompletions, high)))
	}
	return allErrs
}

func validatePodReplacementPolicy(spec *batchv1.JobSpec, fld *field.Path) field.ErrorList {
	if spec.PodReplacementPolicy == nil {
		return nil
	}
	p := *spec.PodReplacementPolicy
	if spec.PodFailurePolicy != nil {
		if p != batchv1.Failed {
			return field.ErrorList{field.NotSupported(fld, p, []batchv1.PodReplacementPolicy{batchv1.Failed})}
		}
		return nil
	}
	if !slices.Contains(podReplacementPolicies, p) {
		return field.ErrorList{field.NotSupported(fld, p, podReplacementPolicies)}
	}
	return nil
}

func validatePodFailurePolicy(spec *batchv1.JobSpec, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	rulesPath := fld.Child("rules")
	if n := len(spec.PodFailurePolicy.Rules); n > maxPodFailurePolicyRules {
		allErrs = append(allErrs, field.TooMany(rulesPath, n, maxPodFailurePolicyRules))
	}
	names := map[string]bool{}
	for _, c := range spec.Template.Spec.Containers {
		names[c.Name] = true
	}
	for _, c := range spec.Template.Spec.InitContainers {
		names[c.Name] = true
	}
	for i := range spec.PodFailurePolicy.Rules {
		allErrs = append(allErrs, validatePodFailurePolicyRule(spec, &spec.PodFailurePolicy.Rules[i], rulesPath.Index(i), names)...)
	}
	return allErrs
}

func validatePodFailurePolicyRule(spec *batchv1.JobSpec, rule *batchv1.PodFailurePolicyRule, fld *field.Path, names map[string]bool) field.ErrorList {
	var allErrs field.ErrorList
	actionPath := fld.Child("action")
	switch {
	case rule.Action == "":
		allErrs = append(allErrs, field.Required(actionPath, fmt.Sprintf("valid values: %q", podFailurePolicyActions)))
	case rule.Action == batchv1.PodFailurePolicyActionFailIndex:
		if spec.BackoffLimitPerIndex == nil {
			allErrs = append(allErrs, field.Invalid(actionPath, rule.Action, "requires the backoffLimitPerIndex to be set"))
		}
	case !slices.Contains(podFailurePolicyActions, rule.Action):
		allErrs = append(allErrs, field.NotSupported(actionPath, rule.Action, podFailurePolicyActions))
	}
	if rule.OnExitCodes != nil {
		allErrs = append(allErrs, validateOnExitCodes(rule.OnExitCodes, fld.Child("onExitCodes"), names)...)
	}
	if len(rule.OnPodConditions) > 0 {
		allErrs = append(allErrs, validateOnPodConditions(rule.OnPodConditions, fld.Child("onPodConditions"))...)
	}
	if rule.OnExitCodes != nil && len(rule.OnPodConditions) > 0 {
		allErrs = append(allErrs, field.Invalid(fld, field.OmitValueType{}, "specifying both OnExitCodes and OnPodConditions is not supported"))
	}
	if rule.OnExitCodes == nil && len(rule.OnPodConditions) == 0 {
		allErrs = append(allErrs, field.Invalid(fld, field.OmitValueType{}, "specifying one of OnExitCodes and OnPodConditions is required"))
	}
	return allErrs
}

func validateOnPodConditions(patterns []batchv1.PodFailurePolicyOnPodConditionsPattern, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if len(patterns) > maxOnPodConditionsPatterns {
		allErrs = append(allErrs, field.TooMany(fld, len(patterns), maxOnPodConditionsPatterns))
	}
	for j, p := range patterns {
		pp := fld.Index(j)
		for _, msg := range validation.IsQualifiedName(string(p.Type)) {
			allErrs = append(allErrs, field.Invalid(pp.Child("type"), string(p.Type), msg))
		}
		switch {
		case p.Status == "":
			allErrs = append(allErrs, field.Required(pp.Child("status"), fmt.Sprintf("valid values: %q", onPodConditionsStatuses)))
		case !slices.Contains(onPodConditionsStatuses, p.Status):
			allErrs = append(allErrs, field.NotSupported(pp.Child("status"), p.Status, onPodConditionsStatuses))
		}
	}
	return allErrs
}

func validateOnExitCodes(req *batchv1.PodFailurePolicyOnExitCodesRequirement, fld *field.Path, names map[string]bool) field.ErrorList {
	var allErrs field.ErrorList
	opPath := fld.Child("operator")
	switch {
	case req.Operator == "":
		allErrs = append(allErrs, field.Required(opPath, fmt.Sprintf("valid values: %q", onExitCodesOperators)))
	case !slices.Contains(onExitCodesOperators, req.Operator):
		allErrs = append(allErrs, field.NotSupported(opPath, req.Operator, onExitCodesOperators))
	}
	if req.ContainerName != nil && !names[*req.ContainerName] {
		allErrs = append(allErrs, field.Invalid(fld.Child("containerName"), *req.ContainerName, "must be one of the container or initContainer names in the pod template"))
	}
	valuesPath := fld.Child("values")
	switch {
	case len(req.Values) == 0:
		allErrs = append(allErrs, field.Invalid(valuesPath, req.Values, "at least one value is required"))
	case len(req.Values) > maxOnExitCodesValues:
		allErrs = append(allErrs, field.TooMany(valuesPath, len(req.Values), maxOnExitCodesValues))
	}
	ordered := true
	seen := make(map[int32]bool, len(req.Values))
	for j, v := range req.Values {
		if req.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn && v == 0 {
			allErrs = append(allErrs, field.Invalid(valuesPath.Index(j), v, "must not be 0 for the In operator"))
		}
		if seen[v] {
			allErrs = append(allErrs, field.Duplicate(valuesPath.Index(j), v))
		}
		seen[v] = true
		if j > 0 && req.Values[j-1] > v {
			ordered = false
		}
	}
	if !ordered {
		allErrs = append(allErrs, field.Invalid(valuesPath, req.Values, "must be ordered"))
	}
	return allErrs
}

func validateSuccessPolicy(spec *batchv1.JobSpec, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	rulesPath := fld.Child("rules")
	rules := spec.SuccessPolicy.Rules
	if len(rules) == 0 {
		allErrs = append(allErrs, field.Required(rulesPath, "at least one rules must be specified when the successPolicy is specified"))
	}
	if len(rules) > maxSuccessPolicyRules {
		allErrs = append(allErrs, field.TooMany(rulesPath, len(rules), maxSuccessPolicyRules))
	}
	for i := range rules {
		allErrs = append(allErrs, validateSuccessPolicyRule(spec, &rules[i], rulesPath.Index(i))...)
	}
	return allErrs
}

func validateSuccessPolicyRule(spec *batchv1.JobSpec, rule *batchv1.SuccessPolicyRule, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	var completions int32
	if spec.Completions != nil {
		completions = *spec.Completions
	}
	if rule.SucceededCount == nil && rule.SucceededIndexes == nil {
		allErrs = append(allErrs, field.Required(fld, "at least one of succeededCount or succeededIndexes must be specified"))
	}
	var total int32
	if rule.SucceededIndexes != nil {
		p := fld.Child("succeededIndexes")
		if len(*rule.SucceededIndexes) > maxSucceededIndexesLength {
			allErrs = append(allErrs, field.TooLong(p, "", maxSucceededIndexesLength))
		}
		var err error
		if total, err = countIndexes(*rule.SucceededIndexes, completions); err != nil {
			allErrs = append(allErrs, field.Invalid(p, *rule.SucceededIndexes, "error parsing succeededIndexes: "+err.Error()))
		}
	}
	if rule.SucceededCount != nil {
		p := fld.Child("succeededCount")
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(*rule.SucceededCount), p)...)
		if *rule.SucceededCount > completions {
			allErrs = append(allErrs, field.Invalid(p, *rule.SucceededCount, fmt.Sprintf("must be less than or equal to %d (the number of specified completions)", completions)))
		}
		if rule.SucceededIndexes != nil && *rule.SucceededCount > total {
			allErrs = append(allErrs, field.Invalid(p, *rule.SucceededCount, fmt.Sprintf("must be less than or equal to %d (the number of indexes in the specified succeededIndexes field)", total)))
		}
	}
	return allErrs
}

// countIndexes parses a succeededIndexes list ("1,3-5,7") and returns how
// many indexes it names.
func countIndexes(s string, completions int32) (int32, error) {
	if s == "" {
		return 0, nil
	}
	var total int32
	last := int32(-1)
	for _, iv := range strings.Split(s, ",") {
		x, y, err := parseIndexInterval(iv, completions)
		if err != nil {
			return 0, err
		}
		if last >= x {
			return 0, fmt.Errorf("non-increasing order, previous: %d, current: %d", last, x)
		}
		total += y - x + 1
		last = y
	}
	return total, nil
}

func parseIndexInterval(iv string, completions int32) (int32, int32, error) {
	parts := strings.Split(iv, "-")
	if len(parts) > 2 {
		return 0, 0, fmt.Errorf("the fragment %q violates the requirement that an index interval can have at most two parts separated by '-'", iv)
	}
	bounds := make([]int32, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return 0, 0, fmt.Errorf("cannot convert string to integer for index: %q", p)
		}
		if n >= int(completions) {
			return 0, 0, fmt.Errorf("too large index: %q", p)
		}
		bounds[i] = int32(n)
	}
	if len(bounds) == 1 {
		return bounds[0], bounds[0], nil
	}
	if bounds[0] >= bounds[1] {
		return 0, 0, fmt.Errorf("non-increasing order, previous: %d, current: %d", bounds[0], bounds[1])
	}
	return bounds[0], bounds[1], nil
}
