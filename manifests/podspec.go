package manifests

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validatePodTemplate applies the API server's core rules to a Job's pod
// template: metadata labels/annotations and the pod spec (containers, images,
// names, pull policy, resources, volumes and mounts, ports, tolerations, env, ...).
// The batch-specific rules (restartPolicy OnFailure|Never, podFailurePolicy
// container names) are the Job validation's, not this function's.
//
// It mirrors ValidatePodTemplateSpec of kube-apiserver 1.37 with the default
// feature gates, for a template that has been defaulted (setPodTemplateDefaults).
func validatePodTemplate(tpl *corev1.PodTemplateSpec, fld *field.Path) field.ErrorList {
	if tpl == nil {
		return nil
	}
	allErrs := metav1validation.ValidateLabels(tpl.Labels, fld.Child("labels"))
	allErrs = append(allErrs, apimachineryvalidation.ValidateAnnotations(tpl.Annotations, fld.Child("annotations"))...)
	if v, ok := tpl.Annotations[podDeletionCostAnnotation]; ok && !validDeletionCost(v) {
		allErrs = append(allErrs, field.Invalid(fld.Child("annotations").Key(podDeletionCostAnnotation), v, "must be a 32bit integer"))
	}
	allErrs = append(allErrs, validatePodSpec(&tpl.Spec, fld.Child("spec"))...)
	if len(tpl.Spec.EphemeralContainers) > 0 {
		allErrs = append(allErrs, field.Forbidden(fld.Child("spec", "ephemeralContainers"), "ephemeral containers not allowed in pod template"))
	}
	return allErrs
}

const podDeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost"

// validDeletionCost reports a decimal int32 without "+" or leading zeros.
func validDeletionCost(v string) bool {
	if v == "" || !(v[0] == '-' || v == "0" || v[0] >= '1' && v[0] <= '9') {
		return false
	}
	_, err := strconv.ParseInt(v, 10, 32)
	return err == nil
}

// validatePodSpec mirrors ValidatePodSpec for the rules jobsync covers.
func validatePodSpec(spec *corev1.PodSpec, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if spec.TerminationGracePeriodSeconds == nil {
		allErrs = append(allErrs, field.Required(fld.Child("terminationGracePeriodSeconds"), ""))
	}
	vols, vErrs := validateVolumes(spec.Volumes, fld.Child("volumes"))
	allErrs = append(allErrs, vErrs...)
	allErrs = append(allErrs, validateContainers(spec, vols, fld.Child("containers"))...)
	allErrs = append(allErrs, validateInitContainers(spec, vols, fld.Child("initContainers"))...)
	allErrs = append(allErrs, requiredOneOf(spec.DNSPolicy, fld.Child("dnsPolicy"),
		corev1.DNSClusterFirstWithHostNet, corev1.DNSClusterFirst, corev1.DNSDefault, corev1.DNSNone)...)
	allErrs = append(allErrs, metav1validation.ValidateLabels(spec.NodeSelector, fld.Child("nodeSelector"))...)
	allErrs = append(allErrs, validatePodSecurityContext(spec, fld.Child("securityContext"))...)
	allErrs = append(allErrs, validatePodNames(spec, fld)...)
	allErrs = append(allErrs, validateScheduling(spec, fld)...)
	if spec.ActiveDeadlineSeconds != nil {
		if v := *spec.ActiveDeadlineSeconds; v < 1 || v > math.MaxInt32 {
			allErrs = append(allErrs, field.Invalid(fld.Child("activeDeadlineSeconds"), v, validation.InclusiveRangeError(1, math.MaxInt32)))
		}
	}
	allErrs = append(allErrs, validateTolerations(spec.Tolerations, fld.Child("tolerations"))...)
	if os := spec.OS; os != nil {
		if os.Name == "" {
			allErrs = append(allErrs, field.Required(fld.Child("os", "name"), ""))
		} else if os.Name != corev1.Linux && os.Name != corev1.Windows {
			allErrs = append(allErrs, field.NotSupported(fld.Child("os"), os.Name, []corev1.OSName{corev1.Linux, corev1.Windows}))
		}
	}
	if spec.PreemptionPolicy != nil {
		allErrs = append(allErrs, requiredOneOf(*spec.PreemptionPolicy, fld.Child("preemptionPolicy"), corev1.PreemptLowerPriority, corev1.PreemptNever)...)
	}
	return append(allErrs, validateFileKeyRefVolumes(spec, fld)...)
}

// validatePodNames checks the names a pod spec refers to or takes on.
func validatePodNames(spec *corev1.PodSpec, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if spec.ServiceAccountName != "" {
		for _, msg := range apimachineryvalidation.ValidateServiceAccountName(spec.ServiceAccountName, false) {
			allErrs = append(allErrs, field.Invalid(fld.Child("serviceAccountName"), spec.ServiceAccountName, msg))
		}
	}
	//nolint:staticcheck // SA1019: the API server keeps the deprecated alias in sync and checks it.
	if sa := spec.DeprecatedServiceAccount; sa != spec.ServiceAccountName {
		allErrs = append(allErrs, field.Invalid(fld.Child("deprecatedServiceAccount"), sa, fmt.Sprintf("must be the same as serviceAccountName: %q", spec.ServiceAccountName)))
	}
	if spec.NodeName != "" {
		for _, msg := range apimachineryvalidation.NameIsDNSSubdomain(spec.NodeName, false) {
			allErrs = append(allErrs, field.Invalid(fld.Child("nodeName"), spec.NodeName, msg))
		}
	}
	if spec.Hostname != "" {
		allErrs = append(allErrs, dns1123Label(spec.Hostname, fld.Child("hostname"))...)
	}
	if spec.Subdomain != "" {
		allErrs = append(allErrs, dns1123Label(spec.Subdomain, fld.Child("subdomain"))...)
	}
	if spec.PriorityClassName != "" {
		for _, msg := range apimachineryvalidation.NameIsDNSSubdomain(spec.PriorityClassName, false) {
			allErrs = append(allErrs, field.Invalid(fld.Child("priorityClassName"), spec.PriorityClassName, msg))
		}
	}
	return allErrs
}

// dns1123Label reports each way value is not a DNS-1123 label.
func dns1123Label(value string, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, msg := range validation.IsDNS1123Label(value) {
		allErrs = append(allErrs, field.Invalid(fld, value, msg))
	}
	return allErrs
}

// requiredOneOf checks a required enum field: empty is Required, a value
// not in valid is NotSupported (listing valid in the order given).
func requiredOneOf[T ~string](v T, fld *field.Path, valid ...T) field.ErrorList {
	switch {
	case slices.Contains(valid, v):
		return nil
	case v == "":
		return field.ErrorList{field.Required(fld, "")}
	}
	return field.ErrorList{field.NotSupported(fld, v, valid)}
}

// validatePodSecurityContext checks the numeric ids of the pod security context.
func validatePodSecurityContext(spec *corev1.PodSpec, fld *field.Path) field.ErrorList {
	sc := spec.SecurityContext
	if sc == nil {
		return nil
	}
	allErrs := validateIDs(sc.RunAsUser, sc.RunAsGroup, fld)
	if sc.FSGroup != nil {
		for _, msg := range validation.IsValidGroupID(*sc.FSGroup) {
			allErrs = append(allErrs, field.Invalid(fld.Child("fsGroup"), *sc.FSGroup, msg))
		}
	}
	for i, gid := range sc.SupplementalGroups {
		for _, msg := range validation.IsValidGroupID(gid) {
			allErrs = append(allErrs, field.Invalid(fld.Child("supplementalGroups").Index(i), gid, msg))
		}
	}
	if p := sc.FSGroupChangePolicy; p != nil && *p != corev1.FSGroupChangeOnRootMismatch && *p != corev1.FSGroupChangeAlways {
		allErrs = append(allErrs, field.NotSupported(fld.Child("fsGroupChangePolicy"), p, []corev1.PodFSGroupChangePolicy{corev1.FSGroupChangeAlways, corev1.FSGroupChangeOnRootMismatch}))
	}
	return allErrs
}

// validateIDs checks runAsUser and runAsGroup (pod or container security context).
func validateIDs(user, group *int64, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if user != nil {
		for _, msg := range validation.IsValidUserID(*user) {
			allErrs = append(allErrs, field.Invalid(fld.Child("runAsUser"), *user, msg))
		}
	}
	if group != nil {
		for _, msg := range validation.IsValidGroupID(*group) {
			allErrs = append(allErrs, field.Invalid(fld.Child("runAsGroup"), *group, msg))
		}
	}
	return allErrs
}

// validateTolerations mirrors ValidateTolerations (comparison operators Lt/Gt
// are behind an alpha gate in 1.37, so they are not supported).
func validateTolerations(tols []corev1.Toleration, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, t := range tols {
		idx := fld.Index(i)
		if t.Key != "" {
			allErrs = append(allErrs, metav1validation.ValidateLabelName(t.Key, idx.Child("key"))...)
		}
		if t.Key == "" && t.Operator != corev1.TolerationOpExists {
			allErrs = append(allErrs, field.Invalid(idx.Child("operator"), t.Operator,
				"operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
		}
		if t.TolerationSeconds != nil && t.Effect != corev1.TaintEffectNoExecute {
			allErrs = append(allErrs, field.Invalid(idx.Child("effect"), t.Effect, "effect must be 'NoExecute' when `tolerationSeconds` is set"))
		}
		allErrs = append(allErrs, validateTolerationOperator(t, idx)...)
		switch t.Effect {
		case "", corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
		default:
			valid := []corev1.TaintEffect{corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute}
			allErrs = append(allErrs, field.NotSupported(idx.Child("effect"), t.Effect, valid))
		}
	}
	return allErrs
}

func validateTolerationOperator(t corev1.Toleration, idx *field.Path) field.ErrorList {
	switch t.Operator {
	case corev1.TolerationOpEqual, "":
		if errs := validation.IsValidLabelValue(t.Value); len(errs) != 0 {
			return field.ErrorList{field.Invalid(idx.Child("operator"), t.Value, strings.Join(errs, ";"))}
		}
	case corev1.TolerationOpExists:
		if t.Value != "" {
			return field.ErrorList{field.Invalid(idx.Child("operator"), t.Value, "value must be empty when `operator` is 'Exists'")}
		}
	case corev1.TolerationOpLt, corev1.TolerationOpGt:
		valid := []corev1.TolerationOperator{corev1.TolerationOpEqual, corev1.TolerationOpExists, corev1.TolerationOpLt, corev1.TolerationOpGt}
		return field.ErrorList{field.NotSupported(idx.Child("operator"), t.Operator, valid)}
	default:
		valid := []corev1.TolerationOperator{corev1.TolerationOpEqual, corev1.TolerationOpExists}
		return field.ErrorList{field.NotSupported(idx.Child("operator"), t.Operator, valid)}
	}
	return nil
}

// podTemplateWarnings returns the warnings the API server gives for a pod
// template (each with its field path). See podspec_warnings.go.
func podTemplateWarnings(tpl *corev1.PodTemplateSpec, fld *field.Path) []Finding {
	if tpl == nil {
		return nil
	}
	return podSpecWarnings(tpl, fld)
}

// setPodTemplateDefaults applies the API server's defaults to a pod template
// (imagePullPolicy from the image tag, terminationGracePeriodSeconds 30,
// dnsPolicy, schedulerName, terminationMessagePath/Policy, protocol TCP, ...).
// restartPolicy is defaulted to Always only when empty, as upstream does.
// See podspec_defaults.go.
func setPodTemplateDefaults(tpl *corev1.PodTemplateSpec) {
	if tpl == nil {
		return
	}
	setPodSpecDefaults(&tpl.Spec)
}
