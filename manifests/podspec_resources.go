package manifests

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Resource name prefixes and sets, as in the API server's core helpers.
const (
	hugePagesPrefix       = "hugepages-"
	requestsPrefix        = "requests."
	defaultResourceDomain = "kubernetes.io/"
)

var standardContainerResources = sets.New(corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage)

// validateResources mirrors ValidateContainerResourceRequirements: valid
// names, non-negative quantities, requests ≤ limits (equal for resources that
// cannot be overcommitted), and hugepages with cpu or memory.
func validateResources(req *corev1.ResourceRequirements, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	limPath, reqPath := fld.Child("limits"), fld.Child("requests")
	cpuOrMemory, hugePages := false, false
	for name, q := range req.Limits {
		p := limPath.Key(string(name))
		allErrs = append(allErrs, validateResourceEntry(name, q, p)...)
		hugePages = hugePages || isHugePages(name)
		cpuOrMemory = cpuOrMemory || name == corev1.ResourceCPU || name == corev1.ResourceMemory
	}
	for name, q := range req.Requests {
		p := reqPath.Key(string(name))
		allErrs = append(allErrs, validateResourceEntry(name, q, p)...)
		if limit, ok := req.Limits[name]; ok {
			if q.Cmp(limit) != 0 && !overcommitAllowed(name) {
				allErrs = append(allErrs, field.Invalid(reqPath, q.String(), fmt.Sprintf("must be equal to %s limit of %s", name, limit.String())))
			} else if q.Cmp(limit) > 0 {
				allErrs = append(allErrs, field.Invalid(reqPath, q.String(), fmt.Sprintf("must be less than or equal to %s limit of %s", name, limit.String())))
			}
		} else if !overcommitAllowed(name) {
			allErrs = append(allErrs, field.Required(limPath, "Limit must be set for non overcommitable resources"))
		}
		hugePages = hugePages || isHugePages(name)
		cpuOrMemory = cpuOrMemory || name == corev1.ResourceCPU || name == corev1.ResourceMemory
	}
	if hugePages && !cpuOrMemory {
		allErrs = append(allErrs, field.Forbidden(fld, "HugePages require cpu or memory"))
	}
	return allErrs
}

// validateResourceEntry checks one name and quantity of limits or requests.
func validateResourceEntry(name corev1.ResourceName, q resource.Quantity, p *field.Path) field.ErrorList {
	allErrs := validateContainerResourceName(name, p)
	if q.Sign() < 0 {
		allErrs = append(allErrs, field.Invalid(p, q.String(), apimachineryvalidation.IsNegativeErrorMsg))
	}
	if isExtendedResource(name) && q.MilliValue()%1000 != 0 {
		allErrs = append(allErrs, field.Invalid(p, q, "must be an integer"))
	}
	if isHugePages(name) && !hugePagesDivisible(name, q) {
		allErrs = append(allErrs, field.Invalid(p, q.String(), fmt.Sprintf("%s is not positive integer multiple of %s", q.String(), name)))
	}
	return allErrs
}

// validateContainerResourceName mirrors ValidateContainerResourceName.
func validateContainerResourceName(name corev1.ResourceName, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, msg := range validation.IsQualifiedName(string(name)) {
		allErrs = append(allErrs, field.Invalid(p, name, msg))
	}
	if len(allErrs) != 0 {
		return allErrs
	}
	if !strings.Contains(string(name), "/") {
		if !isStandardResourceName(name) {
			allErrs = append(allErrs, field.Invalid(p, name, "must be a standard resource type or fully qualified"))
		}
		if !standardContainerResources.Has(name) && !isHugePages(name) {
			allErrs = append(allErrs, field.Invalid(p, name, "must be a standard resource for containers"))
		}
		return allErrs
	}
	if !isNativeResource(name) && !isExtendedResource(name) {
		return field.ErrorList{field.Invalid(p, name, "doesn't follow extended resource name standard")}
	}
	return nil
}

// standardResources are the unqualified names the API server knows.
var standardResources = sets.New[corev1.ResourceName](
	"cpu", "memory", "ephemeral-storage",
	"requests.cpu", "requests.memory", "requests.ephemeral-storage",
	"limits.cpu", "limits.memory", "limits.ephemeral-storage",
	"pods", "resourcequotas", "services", "replicationcontrollers", "secrets",
	"configmaps", "persistentvolumeclaims", "storage", "requests.storage",
	"services.nodeports", "services.loadbalancers",
)

func isStandardResourceName(name corev1.ResourceName) bool {
	return standardResources.Has(name) || isHugePages(name) || strings.HasPrefix(string(name), "requests."+hugePagesPrefix)
}

func isHugePages(name corev1.ResourceName) bool {
	return strings.HasPrefix(string(name), hugePagesPrefix)
}

func isNativeResource(name corev1.ResourceName) bool {
	return !strings.Contains(string(name), "/") || strings.Contains(string(name), defaultResourceDomain)
}

func isExtendedResource(name corev1.ResourceName) bool {
	if isNativeResource(name) || strings.HasPrefix(string(name), requestsPrefix) {
		return false
	}
	return len(validation.IsQualifiedName(requestsPrefix+string(name))) == 0
}

func overcommitAllowed(name corev1.ResourceName) bool {
	return isNativeResource(name) && !isHugePages(name)
}

func hugePagesDivisible(name corev1.ResourceName, q resource.Quantity) bool {
	size, err := resource.ParseQuantity(strings.TrimPrefix(string(name), hugePagesPrefix))
	if err != nil || size.Sign() <= 0 || size.MilliValue()%1000 != 0 {
		return false
	}
	return q.Value()%size.Value() == 0
}
