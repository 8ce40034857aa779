package manifests

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validatePodTemplate applies the API server's core rules to a Job's pod
// template: metadata labels/annotations and the pod spec (containers, images,
// names, pull policy, resources, volumes and mounts, ports, tolerations, env, ...).
// The batch-specific rules (restartPolicy OnFailure|Never, podFailurePolicy
// container names) are the Job validation's, not this function's.
func validatePodTemplate(tpl *corev1.PodTemplateSpec, fld *field.Path) field.ErrorList {
	return nil
}

// podTemplateWarnings returns the warnings the API server gives for a pod
// template (each with its field path).
func podTemplateWarnings(tpl *corev1.PodTemplateSpec, fld *field.Path) []Finding {
	return nil
}

// setPodTemplateDefaults applies the API server's defaults to a pod template
// (imagePullPolicy from the image tag, terminationGracePeriodSeconds 30,
// dnsPolicy, schedulerName, terminationMessagePath/Policy, protocol TCP, ...).
// restartPolicy is defaulted to Always only when empty, as upstream does.
func setPodTemplateDefaults(tpl *corev1.PodTemplateSpec) {}
