package manifests

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const (
	notPositiveMsg      = "must be greater than zero"
	maxDNSNameservers   = 3
	maxDNSSearchPaths   = 32
	maxDNSSearchChars   = 2048
	weightOutOfRangeMsg = "must be in the range 1-100"
)

// validateScheduling checks the pod spec's scheduling and networking
// directives: affinity, topology spread, DNS config, host aliases, host
// network ports and seccomp profiles.
func validateScheduling(spec *corev1.PodSpec, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if spec.HostNetwork {
		for i, c := range spec.Containers {
			for j, port := range c.Ports {
				if port.HostPort != 0 && port.HostPort != port.ContainerPort {
					p := fld.Child("containers").Index(i).Child("ports").Index(j).Child("hostPort")
					allErrs = append(allErrs, field.Invalid(p, port.HostPort, "must match `containerPort` when `hostNetwork` is true"))
				}
			}
		}
	}
	if sc := spec.SecurityContext; sc != nil {
		allErrs = append(allErrs, validateSeccompProfile(sc.SeccompProfile, fld.Child("securityContext", "seccompProfile"))...)
	}
	if a := spec.Affinity; a != nil {
		ap := fld.Child("affinity")
		if a.NodeAffinity != nil {
			allErrs = append(allErrs, validateNodeAffinity(a.NodeAffinity, ap.Child("nodeAffinity"))...)
		}
		if a.PodAffinity != nil {
			allErrs = append(allErrs, validatePodAffinityTerms(a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution,
				a.PodAffinity.PreferredDuringSchedulingIgnoredDuringExecution, ap.Child("podAffinity"))...)
		}
		if a.PodAntiAffinity != nil {
			allErrs = append(allErrs, validatePodAffinityTerms(a.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution,
				a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution, ap.Child("podAntiAffinity"))...)
		}
	}
	allErrs = append(allErrs, validateDNSConfig(spec.DNSConfig, spec.DNSPolicy, fld.Child("dnsConfig"))...)
	allErrs = append(allErrs, validateTopologySpread(spec.TopologySpreadConstraints, fld.Child("topologySpreadConstraints"))...)
	for i, g := range spec.ReadinessGates {
		allErrs = append(allErrs, qualifiedName(string(g.ConditionType), fld.Child("readinessGates").Index(i).Child("conditionType"))...)
	}
	gates := sets.New[string]()
	for i, g := range spec.SchedulingGates {
		p := fld.Child("schedulingGates").Index(i)
		allErrs = append(allErrs, qualifiedName(g.Name, p)...)
		if gates.Has(g.Name) {
			allErrs = append(allErrs, field.Duplicate(p, g.Name))
		}
		gates.Insert(g.Name)
	}
	for i, ha := range spec.HostAliases {
		hp := fld.Child("hostAliases").Index(i)
		allErrs = append(allErrs, validation.IsValidIPForLegacyField(hp.Child("ip"), ha.IP, true, nil)...)
		for j, h := range ha.Hostnames {
			for _, msg := range validation.IsDNS1123Subdomain(h) {
				allErrs = append(allErrs, field.Invalid(hp.Child("hostnames").Index(j), h, msg))
			}
		}
	}
	return allErrs
}

func qualifiedName(v string, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, msg := range validation.IsQualifiedName(v) {
		allErrs = append(allErrs, field.Invalid(fld, v, msg))
	}
	return allErrs
}

var supportedSeccompTypes = []corev1.SeccompProfileType{corev1.SeccompProfileTypeLocalhost, corev1.SeccompProfileTypeRuntimeDefault, corev1.SeccompProfileTypeUnconfined}

// validateSeccompProfile mirrors validateSeccompProfileField.
func validateSeccompProfile(sp *corev1.SeccompProfile, fld *field.Path) field.ErrorList {
	if sp == nil {
		return nil
	}
	var allErrs field.ErrorList
	switch sp.Type {
	case corev1.SeccompProfileTypeLocalhost, corev1.SeccompProfileTypeRuntimeDefault, corev1.SeccompProfileTypeUnconfined:
	case "":
		allErrs = append(allErrs, field.Required(fld.Child("type"), "type is required when seccompProfile is set"))
	default:
		allErrs = append(allErrs, field.NotSupported(fld.Child("type"), sp.Type, supportedSeccompTypes))
	}
	switch {
	case sp.Type == corev1.SeccompProfileTypeLocalhost && sp.LocalhostProfile == nil:
		allErrs = append(allErrs, field.Required(fld.Child("localhostProfile"), "must be set when seccomp type is Localhost"))
	case sp.Type == corev1.SeccompProfileTypeLocalhost:
		allErrs = append(allErrs, validateLocalDescendingPath(*sp.LocalhostProfile, fld.Child("localhostProfile"))...)
	case sp.LocalhostProfile != nil:
		// The API server prints its internal type, which has no JSON tags.
		internal := struct {
			Type             corev1.SeccompProfileType
			LocalhostProfile *string
		}{sp.Type, sp.LocalhostProfile}
		allErrs = append(allErrs, field.Invalid(fld.Child("localhostProfile"), internal, "can only be set when seccomp type is Localhost"))
	}
	return allErrs
}

// validateNodeAffinity mirrors validateNodeAffinity.
func validateNodeAffinity(na *corev1.NodeAffinity, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if ns := na.RequiredDuringSchedulingIgnoredDuringExecution; ns != nil {
		tp := fld.Child("requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms")
		if len(ns.NodeSelectorTerms) == 0 {
			allErrs = append(allErrs, field.Required(tp, "must have at least one node selector term"))
		}
		for i, term := range ns.NodeSelectorTerms {
			allErrs = append(allErrs, validateNodeSelectorTerm(term, false, tp.Index(i))...)
		}
	}
	pp := fld.Child("preferredDuringSchedulingIgnoredDuringExecution")
	for i, term := range na.PreferredDuringSchedulingIgnoredDuringExecution {
		if term.Weight <= 0 || term.Weight > 100 {
			allErrs = append(allErrs, field.Invalid(pp.Index(i).Child("weight"), term.Weight, weightOutOfRangeMsg))
		}
		allErrs = append(allErrs, validateNodeSelectorTerm(term.Preference, true, pp.Index(i).Child("preference"))...)
	}
	return allErrs
}

func validateNodeSelectorTerm(term corev1.NodeSelectorTerm, allowInvalidValues bool, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for j, rq := range term.MatchExpressions {
		p := fld.Child("matchExpressions").Index(j)
		switch rq.Operator {
		case corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn:
			if len(rq.Values) == 0 {
				allErrs = append(allErrs, field.Required(p.Child("values"), "must be specified when `operator` is 'In' or 'NotIn'"))
			}
		case corev1.NodeSelectorOpExists, corev1.NodeSelectorOpDoesNotExist:
			if len(rq.Values) > 0 {
				allErrs = append(allErrs, field.Forbidden(p.Child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
			}
		case corev1.NodeSelectorOpGt, corev1.NodeSelectorOpLt:
			if len(rq.Values) != 1 {
				allErrs = append(allErrs, field.Required(p.Child("values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"))
			}
		default:
			allErrs = append(allErrs, field.Invalid(p.Child("operator"), rq.Operator, "not a valid selector operator"))
		}
		allErrs = append(allErrs, metav1validation.ValidateLabelName(rq.Key, p.Child("key"))...)
		if !allowInvalidValues {
			for k, v := range rq.Values {
				for _, msg := range validation.IsValidLabelValue(v) {
					allErrs = append(allErrs, field.Invalid(p.Child("values").Index(k), v, msg))
				}
			}
		}
	}
	for j, rq := range term.MatchFields {
		allErrs = append(allErrs, validateNodeFieldRequirement(rq, fld.Child("matchFields").Index(j))...)
	}
	return allErrs
}

func validateNodeFieldRequirement(rq corev1.NodeSelectorRequirement, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	switch rq.Operator {
	case corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn:
		if len(rq.Values) != 1 {
			allErrs = append(allErrs, field.Required(p.Child("values"), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"))
		}
	default:
		allErrs = append(allErrs, field.Invalid(p.Child("operator"), rq.Operator, "not a valid selector operator"))
	}
	if rq.Key != "metadata.name" {
		return append(allErrs, field.Invalid(p.Child("key"), rq.Key, "not a valid field selector key"))
	}
	for i, v := range rq.Values {
		for _, msg := range apimachineryvalidation.NameIsDNSSubdomain(v, false) {
			allErrs = append(allErrs, field.Invalid(p.Child("values").Index(i), v, msg))
		}
	}
	return allErrs
}

// validatePodAffinityTerms mirrors validatePodAffinity/validatePodAntiAffinity
// (matchLabelKeys and mismatchLabelKeys are not judged).
func validatePodAffinityTerms(req []corev1.PodAffinityTerm, pref []corev1.WeightedPodAffinityTerm, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, t := range req {
		allErrs = append(allErrs, validatePodAffinityTerm(t, fld.Child("requiredDuringSchedulingIgnoredDuringExecution").Index(i))...)
	}
	pp := fld.Child("preferredDuringSchedulingIgnoredDuringExecution")
	for i, t := range pref {
		if t.Weight <= 0 || t.Weight > 100 {
			allErrs = append(allErrs, field.Invalid(pp.Index(i).Child("weight"), t.Weight, weightOutOfRangeMsg))
		}
		allErrs = append(allErrs, validatePodAffinityTerm(t.PodAffinityTerm, pp.Index(i).Child("podAffinityTerm"))...)
	}
	return allErrs
}

func validatePodAffinityTerm(t corev1.PodAffinityTerm, fld *field.Path) field.ErrorList {
	opts := metav1validation.LabelSelectorValidationOptions{}
	allErrs := metav1validation.ValidateLabelSelector(t.LabelSelector, opts, fld.Child("labelSelector"))
	allErrs = append(allErrs, metav1validation.ValidateLabelSelector(t.NamespaceSelector, opts, fld.Child("namespaceSelector"))...)
	for _, ns := range t.Namespaces {
		for _, msg := range apimachineryvalidation.ValidateNamespaceName(ns, false) {
			allErrs = append(allErrs, field.Invalid(fld.Child("namespace"), ns, msg))
		}
	}
	if t.TopologyKey == "" {
		allErrs = append(allErrs, field.Required(fld.Child("topologyKey"), "can not be empty"))
	}
	return append(allErrs, metav1validation.ValidateLabelName(t.TopologyKey, fld.Child("topologyKey"))...)
}

// validateDNSConfig mirrors validatePodDNSConfig.
func validateDNSConfig(dc *corev1.PodDNSConfig, policy corev1.DNSPolicy, fld *field.Path) field.ErrorList {
	if policy == corev1.DNSNone {
		if dc == nil {
			return field.ErrorList{field.Required(fld, fmt.Sprintf("must provide `dnsConfig` when `dnsPolicy` is %s", corev1.DNSNone))}
		}
		if len(dc.Nameservers) == 0 {
			return field.ErrorList{field.Required(fld.Child("nameservers"), fmt.Sprintf("must provide at least one DNS nameserver when `dnsPolicy` is %s", corev1.DNSNone))}
		}
	}
	if dc == nil {
		return nil
	}
	var allErrs field.ErrorList
	if len(dc.Nameservers) > maxDNSNameservers {
		allErrs = append(allErrs, field.Invalid(fld.Child("nameservers"), dc.Nameservers, fmt.Sprintf("must not have more than %v nameservers", maxDNSNameservers)))
	}
	for i, ns := range dc.Nameservers {
		allErrs = append(allErrs, validation.IsValidIPForLegacyField(fld.Child("nameservers").Index(i), ns, true, nil)...)
	}
	if len(dc.Searches) > maxDNSSearchPaths {
		allErrs = append(allErrs, field.Invalid(fld.Child("searches"), dc.Searches, fmt.Sprintf("must not have more than %v search paths", maxDNSSearchPaths)))
	}
	if len(strings.Join(dc.Searches, " ")) > maxDNSSearchChars {
		allErrs = append(allErrs, field.Invalid(fld.Child("searches"), dc.Searches, fmt.Sprintf("must not have more than %v characters (including spaces) in the search list", maxDNSSearchChars)))
	}
	for i, s := range dc.Searches {
		if s == "." {
			continue
		}
		s = strings.TrimSuffix(s, ".")
		for _, msg := range validation.IsDNS1123SubdomainWithUnderscore(s) {
			allErrs = append(allErrs, field.Invalid(fld.Child("searches").Index(i), s, msg))
		}
	}
	for i, o := range dc.Options {
		if o.Name == "" {
			allErrs = append(allErrs, field.Required(fld.Child("options").Index(i), "must not be empty"))
		}
	}
	return allErrs
}

var (
	supportedWhenUnsatisfiable = sets.New(corev1.DoNotSchedule, corev1.ScheduleAnyway)
	supportedNodePolicies      = sets.New(corev1.NodeInclusionPolicyIgnore, corev1.NodeInclusionPolicyHonor)
)

// validateTopologySpread mirrors validateTopologySpreadConstraints (the
// matchLabelKeys rules are not judged).
func validateTopologySpread(cs []corev1.TopologySpreadConstraint, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, c := range cs {
		p := fld.Index(i)
		if c.MaxSkew <= 0 {
			allErrs = append(allErrs, field.Invalid(p.Child("maxSkew"), int64(c.MaxSkew), notPositiveMsg))
		}
		if c.TopologyKey == "" {
			allErrs = append(allErrs, field.Required(p.Child("topologyKey"), "can not be empty"))
		}
		if !supportedWhenUnsatisfiable.Has(c.WhenUnsatisfiable) {
			allErrs = append(allErrs, field.NotSupported(p.Child("whenUnsatisfiable"), c.WhenUnsatisfiable, sets.List(supportedWhenUnsatisfiable)))
		}
		for _, o := range cs[i+1:] {
			if c.TopologyKey == o.TopologyKey && c.WhenUnsatisfiable == o.WhenUnsatisfiable {
				allErrs = append(allErrs, field.Duplicate(p.Child("{topologyKey, whenUnsatisfiable}"), fmt.Sprintf("{%v, %v}", c.TopologyKey, c.WhenUnsatisfiable)))
				break
			}
		}
		if md := c.MinDomains; md != nil {
			if *md <= 0 {
				allErrs = append(allErrs, field.Invalid(p.Child("minDomains"), int64(*md), notPositiveMsg))
			}
			if c.WhenUnsatisfiable != corev1.DoNotSchedule {
				allErrs = append(allErrs, field.Invalid(p.Child("minDomains"), md, fmt.Sprintf("can only use minDomains if whenUnsatisfiable=%s, not %s", corev1.DoNotSchedule, c.WhenUnsatisfiable)))
			}
		}
		for _, np := range []struct {
			name string
			pol  *corev1.NodeInclusionPolicy
		}{{"nodeAffinityPolicy", c.NodeAffinityPolicy}, {"nodeTaintsPolicy", c.NodeTaintsPolicy}} {
			if np.pol != nil && !supportedNodePolicies.Has(*np.pol) {
				allErrs = append(allErrs, field.NotSupported(p.Child(np.name), np.pol, sets.List(supportedNodePolicies)))
			}
		}
		allErrs = append(allErrs, metav1validation.ValidateLabelSelector(c.LabelSelector, metav1validation.LabelSelectorValidationOptions{}, p.Child("labelSelector"))...)
	}
	return allErrs
}
