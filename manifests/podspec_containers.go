package manifests

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateContainers mirrors validateContainers: at least one container, the
// common rules, unique names, lifecycle and probes (allowed on regular
// containers whatever the pod's restartPolicy).
func validateContainers(spec *corev1.PodSpec, vols map[string]corev1.VolumeSource, fld *field.Path) field.ErrorList {
	if len(spec.Containers) == 0 {
		return field.ErrorList{field.Required(fld, "")}
	}
	var allErrs field.ErrorList
	names := sets.New[string]()
	grace := spec.TerminationGracePeriodSeconds
	for i := range spec.Containers {
		ctr := &spec.Containers[i]
		idx := fld.Index(i)
		allErrs = append(allErrs, validateContainerCommon(ctr, vols, idx)...)
		if names.Has(ctr.Name) {
			allErrs = append(allErrs, field.Duplicate(idx.Child("name"), ctr.Name))
		} else {
			names.Insert(ctr.Name)
		}
		if ctr.Lifecycle != nil {
			allErrs = append(allErrs, validateLifecycle(ctr.Lifecycle, grace, idx.Child("lifecycle"))...)
		}
		allErrs = append(allErrs, validateProbes(ctr, grace, idx)...)
		allErrs = append(allErrs, validateContainerRestartPolicy(ctr, idx)...)
	}
	return append(allErrs, checkHostPortConflicts(spec.Containers, fld)...)
}

// checkHostPortConflicts mirrors checkHostPortConflicts: a protocol/hostIP/
// hostPort triple is used once. Init containers are checked one at a time
// with the list's path, so their errors always say initContainers[0] (as
// upstream).
func checkHostPortConflicts(containers []corev1.Container, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	seen := sets.New[string]()
	for i, c := range containers {
		for j, port := range c.Ports {
			if port.HostPort == 0 {
				continue
			}
			key := fmt.Sprintf("%s/%s/%d", port.Protocol, port.HostIP, port.HostPort)
			if seen.Has(key) {
				allErrs = append(allErrs, field.Duplicate(fld.Index(i).Child("ports").Index(j).Child("hostPort"), key))
			} else {
				seen.Insert(key)
			}
		}
	}
	return allErrs
}

// validateInitContainers mirrors validateInitContainers: names unique across
// init and regular containers; lifecycle and probes only on sidecars
// (restartPolicy Always).
func validateInitContainers(spec *corev1.PodSpec, vols map[string]corev1.VolumeSource, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	names := sets.New[string]()
	for _, c := range spec.Containers {
		names.Insert(c.Name)
	}
	grace := spec.TerminationGracePeriodSeconds
	for i := range spec.InitContainers {
		ctr := &spec.InitContainers[i]
		idx := fld.Index(i)
		allErrs = append(allErrs, validateContainerCommon(ctr, vols, idx)...)
		sidecar := false
		if rp := ctr.RestartPolicy; rp != nil {
			sidecar = *rp == corev1.ContainerRestartPolicyAlways
			allErrs = append(allErrs, validateContainerRestartPolicy(ctr, idx)...)
		} else if len(ctr.RestartPolicyRules) > 0 {
			allErrs = append(allErrs, field.Required(idx.Child("restartPolicy"), "must specify restartPolicy when restart rules are used"))
		}
		if names.Has(ctr.Name) {
			allErrs = append(allErrs, field.Duplicate(idx.Child("name"), ctr.Name))
		} else if ctr.Name != "" {
			names.Insert(ctr.Name)
		}
		allErrs = append(allErrs, checkHostPortConflicts([]corev1.Container{*ctr}, fld)...)
		if sidecar {
			if ctr.Lifecycle != nil {
				allErrs = append(allErrs, validateLifecycle(ctr.Lifecycle, grace, idx.Child("lifecycle"))...)
			}
			allErrs = append(allErrs, validateProbes(ctr, grace, idx)...)
			continue
		}
		allErrs = append(allErrs, forbidInitContainerHooks(ctr, idx)...)
	}
	return allErrs
}

func forbidInitContainerHooks(ctr *corev1.Container, idx *field.Path) field.ErrorList {
	const msg = "may not be set for init containers without restartPolicy=Always"
	var allErrs field.ErrorList
	if ctr.Lifecycle != nil {
		allErrs = append(allErrs, field.Forbidden(idx.Child("lifecycle"), msg))
	}
	if ctr.LivenessProbe != nil {
		allErrs = append(allErrs, field.Forbidden(idx.Child("livenessProbe"), msg))
	}
	if ctr.ReadinessProbe != nil {
		allErrs = append(allErrs, field.Forbidden(idx.Child("readinessProbe"), msg))
	}
	if ctr.StartupProbe != nil {
		allErrs = append(allErrs, field.Forbidden(idx.Child("startupProbe"), msg))
	}
	return allErrs
}

var (
	supportedContainerRestartPolicies = sets.New(corev1.ContainerRestartPolicyAlways, corev1.ContainerRestartPolicyNever, corev1.ContainerRestartPolicyOnFailure)
	supportedRestartRuleActions       = sets.New(corev1.ContainerRestartRuleActionRestart, corev1.ContainerRestartRuleActionRestartAllContainers)
	supportedRestartRuleOperators     = sets.New(corev1.ContainerRestartRuleOnExitCodesOpIn, corev1.ContainerRestartRuleOnExitCodesOpNotIn)
)

// validateContainerRestartPolicy mirrors validateContainerRestartPolicy
// (ContainerRestartRules and RestartAllContainersOnContainerExits are on by
// default in 1.37, so sidecars may have rules too).
func validateContainerRestartPolicy(ctr *corev1.Container, idx *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if ctr.RestartPolicy == nil {
		if len(ctr.RestartPolicyRules) == 0 {
			return nil
		}
		allErrs = append(allErrs, field.Required(idx.Child("restartPolicy"), "must specify restartPolicy when restart rules are used"))
	} else if !supportedContainerRestartPolicies.Has(*ctr.RestartPolicy) {
		allErrs = append(allErrs, field.NotSupported(idx.Child("restartPolicy"), *ctr.RestartPolicy, sets.List(supportedContainerRestartPolicies)))
	}
	if len(ctr.RestartPolicyRules) > 20 {
		allErrs = append(allErrs, field.TooMany(idx.Child("restartPolicyRules"), len(ctr.RestartPolicyRules), 20))
	}
	for i, rule := range ctr.RestartPolicyRules {
		rp := idx.Child("restartPolicyRules").Index(i)
		if !supportedRestartRuleActions.Has(rule.Action) {
			allErrs = append(allErrs, field.NotSupported(rp.Child("action"), rule.Action, sets.List(supportedRestartRuleActions)))
		}
		if rule.ExitCodes == nil {
			allErrs = append(allErrs, field.Required(rp.Child("exitCodes"), "must be specified"))
			continue
		}
		if !supportedRestartRuleOperators.Has(rule.ExitCodes.Operator) {
			allErrs = append(allErrs, field.NotSupported(rp.Child("exitCodes", "operator"), rule.ExitCodes.Operator, sets.List(supportedRestartRuleOperators)))
		}
		if len(rule.ExitCodes.Values) > 255 {
			allErrs = append(allErrs, field.TooMany(rp.Child("exitCodes", "values"), len(rule.ExitCodes.Values), 255))
		}
	}
	return allErrs
}

// validateContainerCommon mirrors validateContainerCommon. As upstream for pod
// templates, an image with surrounding whitespace is not an error here (only
// for Pods); podTemplateWarnings does not flag it either.
func validateContainerCommon(ctr *corev1.Container, vols map[string]corev1.VolumeSource, idx *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if ctr.Name == "" {
		allErrs = append(allErrs, field.Required(idx.Child("name"), ""))
	} else {
		allErrs = append(allErrs, dns1123Label(ctr.Name, idx.Child("name"))...)
	}
	if ctr.Image == "" {
		allErrs = append(allErrs, field.Required(idx.Child("image"), ""))
	}
	allErrs = append(allErrs, requiredOneOf(ctr.TerminationMessagePolicy, idx.Child("terminationMessagePolicy"),
		corev1.TerminationMessageReadFile, corev1.TerminationMessageFallbackToLogsOnError)...)
	allErrs = append(allErrs, validateContainerPorts(ctr.Ports, idx.Child("ports"))...)
	allErrs = append(allErrs, validateEnv(ctr.Env, idx.Child("env"))...)
	allErrs = append(allErrs, validateEnvFrom(ctr.EnvFrom, idx.Child("envFrom"))...)
	allErrs = append(allErrs, validateVolumeMounts(ctr, vols, idx.Child("volumeMounts"))...)
	allErrs = append(allErrs, requiredOneOf(ctr.ImagePullPolicy, idx.Child("imagePullPolicy"), corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever)...)
	allErrs = append(allErrs, validateResources(&ctr.Resources, idx.Child("resources"))...)
	return append(allErrs, validateContainerSecurityContext(ctr.SecurityContext, idx.Child("securityContext"))...)
}

var supportedPortProtocols = sets.New(corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP)

// validateContainerPorts mirrors validateContainerPorts.
func validateContainerPorts(ports []corev1.ContainerPort, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	names := sets.New[string]()
	for i, port := range ports {
		idx := fld.Index(i)
		if port.Name != "" {
			if msgs := validation.IsValidPortName(port.Name); len(msgs) != 0 {
				for _, msg := range msgs {
					allErrs = append(allErrs, field.Invalid(idx.Child("name"), port.Name, msg))
				}
			} else if names.Has(port.Name) {
				allErrs = append(allErrs, field.Duplicate(idx.Child("name"), port.Name))
			} else {
				names.Insert(port.Name)
			}
		}
		if port.ContainerPort == 0 {
			allErrs = append(allErrs, field.Required(idx.Child("containerPort"), ""))
		} else {
			for _, msg := range validation.IsValidPortNum(int(port.ContainerPort)) {
				allErrs = append(allErrs, field.Invalid(idx.Child("containerPort"), port.ContainerPort, msg))
			}
		}
		if port.HostPort != 0 {
			for _, msg := range validation.IsValidPortNum(int(port.HostPort)) {
				allErrs = append(allErrs, field.Invalid(idx.Child("hostPort"), port.HostPort, msg))
			}
		}
		if port.Protocol == "" {
			allErrs = append(allErrs, field.Required(idx.Child("protocol"), ""))
		} else if !supportedPortProtocols.Has(port.Protocol) {
			allErrs = append(allErrs, field.NotSupported(idx.Child("protocol"), port.Protocol, sets.List(supportedPortProtocols)))
		}
	}
	return allErrs
}

// validateProbes checks the three probes of a container that may have them.
func validateProbes(ctr *corev1.Container, grace *int64, idx *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if p := ctr.LivenessProbe; p != nil {
		allErrs = append(allErrs, validateProbe(p, grace, idx.Child("livenessProbe"))...)
		if p.SuccessThreshold != 1 {
			allErrs = append(allErrs, field.Invalid(idx.Child("livenessProbe", "successThreshold"), p.SuccessThreshold, "must be 1"))
		}
	}
	if p := ctr.ReadinessProbe; p != nil {
		allErrs = append(allErrs, validateProbe(p, grace, idx.Child("readinessProbe"))...)
		if p.TerminationGracePeriodSeconds != nil {
			allErrs = append(allErrs, field.Invalid(idx.Child("readinessProbe", "terminationGracePeriodSeconds"), *p.TerminationGracePeriodSeconds, "must not be set for readinessProbes"))
		}
	}
	if p := ctr.StartupProbe; p != nil {
		allErrs = append(allErrs, validateProbe(p, grace, idx.Child("startupProbe"))...)
		if p.SuccessThreshold != 1 {
			allErrs = append(allErrs, field.Invalid(idx.Child("startupProbe", "successThreshold"), p.SuccessThreshold, "must be 1"))
		}
	}
	return allErrs
}

func validateProbe(p *corev1.Probe, grace *int64, fld *field.Path) field.ErrorList {
	h := handler{Exec: p.Exec, HTTPGet: p.HTTPGet, TCPSocket: p.TCPSocket, GRPC: p.GRPC}
	allErrs := validateHandler(h, grace, fld)
	for _, f := range []struct {
		name string
		v    int32
	}{
		{"initialDelaySeconds", p.InitialDelaySeconds}, {"timeoutSeconds", p.TimeoutSeconds},
		{"periodSeconds", p.PeriodSeconds}, {"successThreshold", p.SuccessThreshold},
		{"failureThreshold", p.FailureThreshold},
	} {
		allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(f.v), fld.Child(f.name))...)
	}
	if t := p.TerminationGracePeriodSeconds; t != nil && *t <= 0 {
		allErrs = append(allErrs, field.Invalid(fld.Child("terminationGracePeriodSeconds"), *t, "must be greater than 0"))
	}
	return allErrs
}

// validateLifecycle checks the hooks. stopSignal is behind an alpha gate in
// 1.37: the API server drops it, so it is not judged.
func validateLifecycle(lc *corev1.Lifecycle, grace *int64, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, hook := range []struct {
		name string
		h    *corev1.LifecycleHandler
	}{{"postStart", lc.PostStart}, {"preStop", lc.PreStop}} {
		if hook.h != nil {
			h := handler{Exec: hook.h.Exec, HTTPGet: hook.h.HTTPGet, TCPSocket: hook.h.TCPSocket, Sleep: hook.h.Sleep}
			allErrs = append(allErrs, validateHandler(h, grace, fld.Child(hook.name))...)
		}
	}
	return allErrs
}

// handler is what probes and lifecycle hooks have in common.
type handler struct {
	Exec      *corev1.ExecAction
	HTTPGet   *corev1.HTTPGetAction
	TCPSocket *corev1.TCPSocketAction
	GRPC      *corev1.GRPCAction
	Sleep     *corev1.SleepAction
}

// validateHandler mirrors validateHandler: exactly one handler type.
func validateHandler(h handler, grace *int64, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	n := 0
	add := func(set bool, name string, check func(*field.Path) field.ErrorList) {
		if !set {
			return
		}
		if n > 0 {
			allErrs = append(allErrs, field.Forbidden(fld.Child(name), "may not specify more than 1 handler type"))
			return
		}
		n++
		allErrs = append(allErrs, check(fld.Child(name))...)
	}
	add(h.Exec != nil, "exec", func(p *field.Path) field.ErrorList {
		if len(h.Exec.Command) == 0 {
			return field.ErrorList{field.Required(p.Child("command"), "")}
		}
		return nil
	})
	add(h.HTTPGet != nil, "httpGet", func(p *field.Path) field.ErrorList { return validateHTTPGet(h.HTTPGet, p) })
	add(h.TCPSocket != nil, "tcpSocket", func(p *field.Path) field.ErrorList { return validatePortNumOrName(h.TCPSocket.Port, p.Child("port")) })
	add(h.GRPC != nil, "grpc", func(p *field.Path) field.ErrorList {
		return validatePortNumOrName(intstr.FromInt32(h.GRPC.Port), p.Child("port"))
	})
	add(h.Sleep != nil, "sleep", func(p *field.Path) field.ErrorList {
		if grace != nil && (h.Sleep.Seconds < 0 || h.Sleep.Seconds > *grace) {
			return field.ErrorList{field.Invalid(p, h.Sleep.Seconds, fmt.Sprintf("must be non-negative and less than terminationGracePeriodSeconds (%d)", *grace))}
		}
		return nil
	})
	if n == 0 {
		allErrs = append(allErrs, field.Required(fld, "must specify a handler type"))
	}
	return allErrs
}

var supportedHTTPSchemes = sets.New(corev1.URISchemeHTTP, corev1.URISchemeHTTPS)

func validateHTTPGet(h *corev1.HTTPGetAction, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if h.Path == "" {
		allErrs = append(allErrs, field.Required(fld.Child("path"), ""))
	}
	allErrs = append(allErrs, validatePortNumOrName(h.Port, fld.Child("port"))...)
	if !supportedHTTPSchemes.Has(h.Scheme) {
		allErrs = append(allErrs, field.NotSupported(fld.Child("scheme"), h.Scheme, sets.List(supportedHTTPSchemes)))
	}
	for _, hdr := range h.HTTPHeaders {
		for _, msg := range validation.IsHTTPHeaderName(hdr.Name) {
			allErrs = append(allErrs, field.Invalid(fld.Child("httpHeaders"), hdr.Name, msg))
		}
	}
	return allErrs
}

func validatePortNumOrName(port intstr.IntOrString, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if port.Type == intstr.Int {
		for _, msg := range validation.IsValidPortNum(port.IntValue()) {
			allErrs = append(allErrs, field.Invalid(fld, port.IntValue(), msg))
		}
		return allErrs
	}
	for _, msg := range validation.IsValidPortName(port.StrVal) {
		allErrs = append(allErrs, field.Invalid(fld, port.StrVal, msg))
	}
	return allErrs
}

var supportedProcMountTypes = sets.New(corev1.DefaultProcMount, corev1.UnmaskedProcMount)

// validateContainerSecurityContext mirrors the cluster-independent parts of
// ValidateSecurityContext (privileged containers depend on the server's
// --allow-privileged flag and are not judged here).
func validateContainerSecurityContext(sc *corev1.SecurityContext, fld *field.Path) field.ErrorList {
	if sc == nil {
		return nil
	}
	allErrs := validateIDs(sc.RunAsUser, sc.RunAsGroup, fld)
	if pm := sc.ProcMount; pm != nil {
		if !supportedProcMountTypes.Has(*pm) {
			allErrs = append(allErrs, field.NotSupported(fld.Child("procMount"), *pm, []corev1.ProcMountType{corev1.DefaultProcMount, corev1.UnmaskedProcMount}))
		}
	}
	allErrs = append(allErrs, validateSeccompProfile(sc.SeccompProfile, fld.Child("seccompProfile"))...)
	if ape := sc.AllowPrivilegeEscalation; ape != nil && !*ape && sc.Privileged != nil && *sc.Privileged {
		allErrs = append(allErrs, field.Invalid(fld, sc, "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
	}
	return allErrs
}
