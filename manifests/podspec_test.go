package manifests

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

// validTemplate is a small valid Job pod template before defaulting.
func validTemplate() *corev1.PodTemplateSpec {
	return &corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		RestartPolicy: corev1.RestartPolicyNever,
		Containers:    []corev1.Container{{Name: "main", Image: "busybox:1.36"}},
	}}
}

// gotErrs defaults and validates tpl under spec.template and returns
// "Type path" for each error.
func gotErrs(tpl *corev1.PodTemplateSpec) []string {
	setPodTemplateDefaults(tpl)
	var out []string
	for _, e := range validatePodTemplate(tpl, field.NewPath("spec", "template")) {
		out = append(out, string(e.Type)+" "+e.Field)
	}
	return out
}

const tp = "spec.template.spec."

func TestPodTemplateValidation(t *testing.T) { runPodCases(t, podValidationCases()) }

func podValidationCases() []podCase {
	q := resource.MustParse
	return []podCase{
		{"valid", func(*corev1.PodTemplateSpec) {}, nil},
		{"restartPolicy omitted is not ours", func(p *corev1.PodTemplateSpec) { p.Spec.RestartPolicy = "" }, nil},
		{"restartPolicy Always is not ours", func(p *corev1.PodTemplateSpec) { p.Spec.RestartPolicy = corev1.RestartPolicyAlways }, nil},
		{"bad template label value", func(p *corev1.PodTemplateSpec) { p.Labels = map[string]string{"app": "a b"} }, []string{"FieldValueInvalid spec.template.labels"}},
		{"bad template label key", func(p *corev1.PodTemplateSpec) { p.Labels = map[string]string{"-app": "x"} }, []string{"FieldValueInvalid spec.template.labels"}},
		{"bad template annotation key", func(p *corev1.PodTemplateSpec) { p.Annotations = map[string]string{"a b": "x"} }, []string{"FieldValueInvalid spec.template.annotations"}},
		{"annotations too long", func(p *corev1.PodTemplateSpec) {
			p.Annotations = map[string]string{"a": strings.Repeat("x", 256*1024)}
		}, []string{"FieldValueTooLong spec.template.annotations"}},
		{"no containers", func(p *corev1.PodTemplateSpec) { p.Spec.Containers = nil }, []string{"FieldValueRequired " + tp + "containers"}},
		{"container name missing", func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].Name = "" }, []string{"FieldValueRequired " + tp + "containers[0].name"}},
		{"container name not a label", func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].Name = "Main_1" }, []string{"FieldValueInvalid " + tp + "containers[0].name"}},
		{"container names duplicate", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "main", Image: "busybox"})
		}, []string{"FieldValueDuplicate " + tp + "containers[1].name"}},
		{"init container name duplicates a container", func(p *corev1.PodTemplateSpec) {
			p.Spec.InitContainers = []corev1.Container{{Name: "main", Image: "busybox"}}
		}, []string{"FieldValueDuplicate " + tp + "initContainers[0].name"}},
		{"image missing", func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].Image = "" }, []string{"FieldValueRequired " + tp + "containers[0].image"}},
		{"image with spaces is accepted in templates", func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].Image = " busybox " }, nil},
		{"pull policy unknown", func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].ImagePullPolicy = "always" }, []string{"FieldValueNotSupported " + tp + "containers[0].imagePullPolicy"}},
		{"termination message policy unknown", func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].TerminationMessagePolicy = "Logs" }, []string{"FieldValueNotSupported " + tp + "containers[0].terminationMessagePolicy"}},
		{"requests above limits", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Resources = corev1.ResourceRequirements{
				Requests: corev1.ResourceList{"cpu": q("2")}, Limits: corev1.ResourceList{"cpu": q("1")}}
		}, []string{"FieldValueInvalid " + tp + "containers[0].resources.requests"}},
		{"requests equal limits", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Resources = corev1.ResourceRequirements{
				Requests: corev1.ResourceList{"memory": q("1Gi")}, Limits: corev1.ResourceList{"memory": q("1Gi")}}
		}, nil},
		{"negative quantity", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{"cpu": q("-1")}
		}, []string{"FieldValueInvalid " + tp + "containers[0].resources.limits[cpu]"}},
		{"unknown resource name", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{"gpu": q("1")}
		}, []string{"FieldValueInvalid " + tp + "containers[0].resources.limits[gpu]", "FieldValueInvalid " + tp + "containers[0].resources.limits[gpu]"}},
		{"pod-level resource name in a container", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{"pods": q("1")}
		}, []string{"FieldValueInvalid " + tp + "containers[0].resources.limits[pods]"}},
		{"extended resource request without limit", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{"nvidia.com/gpu": q("1")}
		}, []string{"FieldValueRequired " + tp + "containers[0].resources.limits"}},
		{"extended resource fractional", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{"nvidia.com/gpu": q("500m")}
		}, []string{"FieldValueInvalid " + tp + "containers[0].resources.limits[nvidia.com/gpu]"}},
		{"hugepages without cpu or memory", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{"hugepages-2Mi": q("4Mi")}
			p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{"hugepages-2Mi": q("4Mi")}
		}, []string{"FieldValueForbidden " + tp + "containers[0].resources"}},
		{"hugepages not a multiple of the page size", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{"hugepages-2Mi": q("3Mi"), "memory": q("1Gi")}
		}, []string{"FieldValueInvalid " + tp + "containers[0].resources.limits[hugepages-2Mi]"}},
		{"env name empty", func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].Env = []corev1.EnvVar{{Value: "x"}} }, []string{"FieldValueRequired " + tp + "containers[0].env[0].name"}},
		{"env name with =", func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A=B"}} }, []string{"FieldValueInvalid " + tp + "containers[0].env[0].name"}},
		{"env name relaxed is fine", func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "1-a.b"}} }, nil},
		{"env valueFrom empty", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{}}}
		}, []string{"FieldValueInvalid " + tp + "containers[0].env[0].valueFrom"}},
		{"env valueFrom and value", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "x", ValueFrom: &corev1.EnvVarSource{
				SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "k"}}}}
		}, []string{"FieldValueInvalid " + tp + "containers[0].env[0].valueFrom"}},
		{"env valueFrom two sources", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{
				SecretKeyRef:    &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Key: "k"},
				ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "c"}, Key: "k"}}}}
		}, []string{"FieldValueInvalid " + tp + "containers[0].env[0].valueFrom"}},
		{"env secretKeyRef without name and key", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{}}}}
		}, []string{"FieldValueInvalid " + tp + "containers[0].env[0].valueFrom.secretKeyRef.name", "FieldValueRequired " + tp + "containers[0].env[0].valueFrom.secretKeyRef.key"}},
		{"env configMapKeyRef bad key", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "c"}, Key: "a/b"}}}}
		}, []string{"FieldValueInvalid " + tp + "containers[0].env[0].valueFrom.configMapKeyRef.key"}},
		{"env fieldRef unsupported path", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.phase"}}}}
		}, []string{"FieldValueNotSupported " + tp + "containers[0].env[0].valueFrom.fieldRef.fieldPath"}},
		{"env fieldRef unknown path", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.bogus"}}}}
		}, []string{"FieldValueInvalid " + tp + "containers[0].env[0].valueFrom.fieldRef.fieldPath"}},
		{"env fieldRef label subscript", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}}}
		}, nil},
		{"env resourceFieldRef unknown", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.gpu"}}}}
		}, []string{"FieldValueNotSupported " + tp + "containers[0].env[0].valueFrom.resourceFieldRef.resource"}},
		{"envFrom without source", func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].EnvFrom = []corev1.EnvFromSource{{Prefix: "P_"}} }, []string{"FieldValueInvalid " + tp + "containers[0].envFrom"}},
		{"envFrom bad prefix and empty name", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].EnvFrom = []corev1.EnvFromSource{{Prefix: "A=", ConfigMapRef: &corev1.ConfigMapEnvSource{}}}
		}, []string{"FieldValueInvalid " + tp + "containers[0].envFrom[0].prefix", "FieldValueRequired " + tp + "containers[0].envFrom[0].configMapRef.name"}},
		{"envFrom bad secret name", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].EnvFrom = []corev1.EnvFromSource{{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "Bad_Name"}}}}
		}, []string{"FieldValueInvalid " + tp + "containers[0].envFrom[0].secretRef.name"}},
		{"port zero", func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].Ports = []corev1.ContainerPort{{}} }, []string{"FieldValueRequired " + tp + "containers[0].ports[0].containerPort"}},
		{"port too large", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 70000}}
		}, []string{"FieldValueInvalid " + tp + "containers[0].ports[0].containerPort"}},
		{"host port negative", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: -1}}
		}, []string{"FieldValueInvalid " + tp + "containers[0].ports[0].hostPort"}},
		{"port protocol unknown", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, Protocol: "tcp"}}
		}, []string{"FieldValueNotSupported " + tp + "containers[0].ports[0].protocol"}},
		{"port name too long", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, Name: "a-very-long-port-name"}}
		}, []string{"FieldValueInvalid " + tp + "containers[0].ports[0].name"}},
		{"port names duplicate", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, Name: "http"}, {ContainerPort: 81, Name: "http"}}
		}, []string{"FieldValueDuplicate " + tp + "containers[0].ports[1].name"}},
	}
}

type podCase = struct {
	name   string
	mutate func(*corev1.PodTemplateSpec)
	want   []string
}

func runPodCases(t *testing.T, tests []podCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tpl := validTemplate()
			tc.mutate(tpl)
			got := gotErrs(tpl)
			slices.Sort(got)
			want := slices.Clone(tc.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("errors:\n got  %q\n want %q", got, want)
			}
		})
	}
}

func TestPodTemplateVolumesAndSpec(t *testing.T) { runPodCases(t, podVolumeCases()) }

func podVolumeCases() []podCase {
	vol := func(name string, src corev1.VolumeSource) corev1.Volume {
		return corev1.Volume{Name: name, VolumeSource: src}
	}
	mount := func(name, path string) corev1.VolumeMount { return corev1.VolumeMount{Name: name, MountPath: path} }
	return []podCase{
		{"volume without source defaults to emptyDir", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = []corev1.Volume{{Name: "data"}}
			p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{mount("data", "/data")}
		}, nil},
		{"volume name missing", func(p *corev1.PodTemplateSpec) { p.Spec.Volumes = []corev1.Volume{{}} }, []string{"FieldValueRequired " + tp + "volumes[0].name"}},
		{"volume name not a label", func(p *corev1.PodTemplateSpec) { p.Spec.Volumes = []corev1.Volume{{Name: "my.data"}} }, []string{"FieldValueInvalid " + tp + "volumes[0].name"}},
		{"volume names duplicate", func(p *corev1.PodTemplateSpec) { p.Spec.Volumes = []corev1.Volume{{Name: "d"}, {Name: "d"}} }, []string{"FieldValueDuplicate " + tp + "volumes[1].name"}},
		{"volume with two sources", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = []corev1.Volume{vol("d", corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}, ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "c"}}})}
		}, []string{"FieldValueForbidden " + tp + "volumes[0].configMap"}},
		{"configMap volume without name", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = []corev1.Volume{vol("d", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}})}
		}, []string{"FieldValueRequired " + tp + "volumes[0].configMap.name"}},
		{"secret volume without name, bad mode, bad item", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = []corev1.Volume{vol("d", corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
				DefaultMode: ptr.To[int32](0o1000), Items: []corev1.KeyToPath{{Key: "k", Path: "../x"}}}})}
		}, []string{"FieldValueRequired " + tp + "volumes[0].secret.secretName", "FieldValueInvalid " + tp + "volumes[0].secret.defaultMode", "FieldValueInvalid " + tp + "volumes[0].secret.items[0].path"}},
		{"pvc without claimName", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = []corev1.Volume{vol("d", corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{}})}
		}, []string{"FieldValueRequired " + tp + "volumes[0].persistentVolumeClaim.claimName"}},
		{"hostPath without path", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = []corev1.Volume{vol("d", corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{}})}
		}, []string{"FieldValueRequired " + tp + "volumes[0].hostPath.path"}},
		{"hostPath bad type", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = []corev1.Volume{vol("d", corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/x", Type: ptr.To[corev1.HostPathType]("Dir")}})}
		}, []string{"FieldValueNotSupported " + tp + "volumes[0].hostPath.type"}},
		{"emptyDir negative size", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = []corev1.Volume{vol("d", corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: ptr.To(resource.MustParse("-1Gi"))}})}
		}, []string{"FieldValueForbidden " + tp + "volumes[0].emptyDir.sizeLimit"}},
		{"downwardAPI item without path", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = []corev1.Volume{vol("d", corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{
				Items: []corev1.DownwardAPIVolumeFile{{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}}})}
		}, []string{"FieldValueRequired " + tp + "volumes[0].downwardAPI.path"}},
		{"projected token too short", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = []corev1.Volume{vol("d", corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To[int64](60)}}}}})}
		}, []string{"FieldValueInvalid " + tp + "volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds"}},
		{"downwardAPI resourceFieldRef without container", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = []corev1.Volume{vol("d", corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{
				Items: []corev1.DownwardAPIVolumeFile{{Path: "cpu", ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu"}}}}})}
		}, []string{"FieldValueRequired " + tp + "volumes[0].downwardAPI.resourceFieldRef.containerName"}},
		{"downwardAPI item without ref", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = []corev1.Volume{vol("d", corev1.VolumeSource{DownwardAPI: &corev1.DownwardAPIVolumeSource{
				Items: []corev1.DownwardAPIVolumeFile{{Path: "x"}}}})}
		}, []string{"FieldValueRequired " + tp + "volumes[0].downwardAPI"}},
		{"projected duplicate paths and missing names", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = []corev1.Volume{vol("d", corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ConfigMap: &corev1.ConfigMapProjection{Items: []corev1.KeyToPath{{Key: "a", Path: "same"}}}},
				{Secret: &corev1.SecretProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "s"}, Items: []corev1.KeyToPath{{Key: "b", Path: "same"}}}},
			}}})}
		}, []string{"FieldValueRequired " + tp + "volumes[0].projected.sources[0].configMap.name", "FieldValueInvalid " + tp + "volumes[0].projected"}},
		{"projected token without path", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = []corev1.Volume{vol("d", corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
				{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{}}}}})}
		}, []string{"FieldValueRequired " + tp + "volumes[0].projected.path"}},
		{"emptyDir mode is an alpha field the server drops", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = []corev1.Volume{vol("d", corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Mode: ptr.To[int32](0o7777)}})}
		}, nil},
		{"hostPath with backsteps", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = []corev1.Volume{vol("d", corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/var/../etc"}})}
		}, []string{"FieldValueInvalid " + tp + "volumes[0].hostPath.path"}},
		{"env fieldRef bad apiVersion", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v2", FieldPath: "metadata.name"}}}}
		}, []string{"FieldValueInvalid " + tp + "containers[0].env[0].valueFrom.fieldRef.fieldPath"}},
		{"env fieldRef bad annotation subscript", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations['a b']"}}}}
		}, []string{"FieldValueInvalid " + tp + "containers[0].env[0].valueFrom.fieldRef"}},
		{"subPath and subPathExpr together", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = []corev1.Volume{{Name: "a"}}
			p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "a", MountPath: "/x", SubPath: "s", SubPathExpr: "$(POD)"}}
		}, []string{"FieldValueInvalid " + tp + "containers[0].volumeMounts[0].subPathExpr"}},
		{"deprecated service account is synced by defaulting", func(p *corev1.PodTemplateSpec) {
			p.Spec.ServiceAccountName = "a"
			p.Spec.DeprecatedServiceAccount = "b" //nolint:staticcheck // the case under test
		}, nil},
		{"preemptionPolicy unknown", func(p *corev1.PodTemplateSpec) {
			p.Spec.PreemptionPolicy = ptr.To[corev1.PreemptionPolicy]("Always")
		}, []string{"FieldValueNotSupported " + tp + "preemptionPolicy"}},
		{"fsGroupChangePolicy unknown", func(p *corev1.PodTemplateSpec) {
			p.Spec.SecurityContext = &corev1.PodSecurityContext{FSGroupChangePolicy: ptr.To[corev1.PodFSGroupChangePolicy]("Never")}
		}, []string{"FieldValueNotSupported " + tp + "securityContext.fsGroupChangePolicy"}},
		{"toleration Lt is alpha", func(p *corev1.PodTemplateSpec) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpLt, Value: "5"}}
		}, []string{"FieldValueNotSupported " + tp + "tolerations[0].operator"}},
		{"toleration Equal bad value", func(p *corev1.PodTemplateSpec) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "k", Value: "a b"}}
		}, []string{"FieldValueInvalid " + tp + "tolerations[0].operator"}},
		{"nodeName bad", func(p *corev1.PodTemplateSpec) { p.Spec.NodeName = "Node_1" }, []string{"FieldValueInvalid " + tp + "nodeName"}},
		{"mount of unknown volume", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{mount("nope", "/x")}
		}, []string{"FieldValueNotFound " + tp + "containers[0].volumeMounts[0].name"}},
		{"mount of an invalid volume", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = []corev1.Volume{vol("d", corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{}})}
			p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{mount("d", "/x")}
		}, []string{"FieldValueRequired " + tp + "volumes[0].configMap.name", "FieldValueNotFound " + tp + "containers[0].volumeMounts[0].name"}},
		{"mount without mountPath and duplicate path", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = []corev1.Volume{{Name: "a"}, {Name: "b"}}
			p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{mount("a", ""), mount("b", "/x"), mount("a", "/x")}
		}, []string{"FieldValueRequired " + tp + "containers[0].volumeMounts[0].mountPath", "FieldValueInvalid " + tp + "containers[0].volumeMounts[2].mountPath"}},
		{"mount subPath absolute", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = []corev1.Volume{{Name: "a"}}
			p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "a", MountPath: "/x", SubPath: "/abs"}}
		}, []string{"FieldValueInvalid " + tp + "containers[0].volumeMounts.subPath"}},
		{"toleration bad operator", func(p *corev1.PodTemplateSpec) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: "In"}}
		}, []string{"FieldValueNotSupported " + tp + "tolerations[0].operator"}},
		{"toleration Exists with value", func(p *corev1.PodTemplateSpec) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists, Value: "v"}}
		}, []string{"FieldValueInvalid " + tp + "tolerations[0].operator"}},
		{"toleration empty key with Equal", func(p *corev1.PodTemplateSpec) {
			p.Spec.Tolerations = []corev1.Toleration{{Operator: corev1.TolerationOpEqual}}
		}, []string{"FieldValueInvalid " + tp + "tolerations[0].operator"}},
		{"toleration bad effect", func(p *corev1.PodTemplateSpec) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "k", Value: "v", Effect: "NoRun"}}
		}, []string{"FieldValueNotSupported " + tp + "tolerations[0].effect"}},
		{"toleration seconds without NoExecute", func(p *corev1.PodTemplateSpec) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule, TolerationSeconds: ptr.To[int64](5)}}
		}, []string{"FieldValueInvalid " + tp + "tolerations[0].effect"}},
		{"toleration bad key", func(p *corev1.PodTemplateSpec) {
			p.Spec.Tolerations = []corev1.Toleration{{Key: "a b", Operator: corev1.TolerationOpExists}}
		}, []string{"FieldValueInvalid " + tp + "tolerations[0].key"}},
		{"nodeSelector bad value", func(p *corev1.PodTemplateSpec) { p.Spec.NodeSelector = map[string]string{"disk": "s s d"} }, []string{"FieldValueInvalid " + tp + "nodeSelector"}},
		{"serviceAccountName bad", func(p *corev1.PodTemplateSpec) { p.Spec.ServiceAccountName = "Runner" }, []string{"FieldValueInvalid " + tp + "serviceAccountName"}},
		{"dnsPolicy unknown", func(p *corev1.PodTemplateSpec) { p.Spec.DNSPolicy = "clusterfirst" }, []string{"FieldValueNotSupported " + tp + "dnsPolicy"}},
		{"pod activeDeadlineSeconds zero", func(p *corev1.PodTemplateSpec) { p.Spec.ActiveDeadlineSeconds = ptr.To[int64](0) }, []string{"FieldValueInvalid " + tp + "activeDeadlineSeconds"}},
		{"negative grace period only warns", func(p *corev1.PodTemplateSpec) { p.Spec.TerminationGracePeriodSeconds = ptr.To[int64](-1) }, nil},
		{"hostname and subdomain", func(p *corev1.PodTemplateSpec) { p.Spec.Hostname = "a.b"; p.Spec.Subdomain = "X" }, []string{"FieldValueInvalid " + tp + "hostname", "FieldValueInvalid " + tp + "subdomain"}},
		{"priorityClassName bad", func(p *corev1.PodTemplateSpec) { p.Spec.PriorityClassName = "High_Priority" }, []string{"FieldValueInvalid " + tp + "priorityClassName"}},
		{"pod security context ids", func(p *corev1.PodTemplateSpec) {
			p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](-1), FSGroup: ptr.To[int64](-2), SupplementalGroups: []int64{-3}}
		}, []string{"FieldValueInvalid " + tp + "securityContext.runAsUser", "FieldValueInvalid " + tp + "securityContext.fsGroup", "FieldValueInvalid " + tp + "securityContext.supplementalGroups[0]"}},
		{"container security context", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{RunAsGroup: ptr.To[int64](-1), ProcMount: ptr.To[corev1.ProcMountType]("Masked")}
		}, []string{"FieldValueInvalid " + tp + "containers[0].securityContext.runAsGroup", "FieldValueNotSupported " + tp + "containers[0].securityContext.procMount"}},
		{"ephemeral containers forbidden", func(p *corev1.PodTemplateSpec) {
			p.Spec.EphemeralContainers = []corev1.EphemeralContainer{{EphemeralContainerCommon: corev1.EphemeralContainerCommon{Name: "debug", Image: "busybox"}}}
		}, []string{"FieldValueForbidden " + tp + "ephemeralContainers"}},
		{"fileKeyRef to a missing volume", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", ValueFrom: &corev1.EnvVarSource{FileKeyRef: &corev1.FileKeySelector{VolumeName: "cfg", Path: "env", Key: "A"}}}}
		}, []string{"FieldValueNotFound " + tp + "containers[0].env[0].valueFrom.fileKeyRef.volumeName"}},
	}
}

func TestPodTemplateProbes(t *testing.T) { runPodCases(t, podProbeCases()) }

func podProbeCases() []podCase {
	httpProbe := func() *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(8080)}}}
	}
	return []podCase{
		{"probes allowed on Job containers", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].LivenessProbe = httpProbe()
			p.Spec.Containers[0].ReadinessProbe = httpProbe()
			p.Spec.Containers[0].Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 5}}}
		}, nil},
		{"probe without handler", func(p *corev1.PodTemplateSpec) { p.Spec.Containers[0].LivenessProbe = &corev1.Probe{} }, []string{"FieldValueRequired " + tp + "containers[0].livenessProbe"}},
		{"probe with two handlers", func(p *corev1.PodTemplateSpec) {
			pr := httpProbe()
			pr.Exec = &corev1.ExecAction{Command: []string{"true"}}
			p.Spec.Containers[0].StartupProbe = pr
		}, []string{"FieldValueForbidden " + tp + "containers[0].startupProbe.httpGet"}},
		{"exec probe without command", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{Exec: &corev1.ExecAction{}}}
		}, []string{"FieldValueRequired " + tp + "containers[0].livenessProbe.exec.command"}},
		{"liveness successThreshold not 1", func(p *corev1.PodTemplateSpec) {
			pr := httpProbe()
			pr.SuccessThreshold = 2
			p.Spec.Containers[0].LivenessProbe = pr
		}, []string{"FieldValueInvalid " + tp + "containers[0].livenessProbe.successThreshold"}},
		{"negative probe period", func(p *corev1.PodTemplateSpec) {
			pr := httpProbe()
			pr.PeriodSeconds = -1
			p.Spec.Containers[0].ReadinessProbe = pr
		}, []string{"FieldValueInvalid " + tp + "containers[0].readinessProbe.periodSeconds"}},
		{"tcp probe bad port", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(0)}}}
		}, []string{"FieldValueInvalid " + tp + "containers[0].livenessProbe.tcpSocket.port"}},
		{"sleep longer than grace period", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Lifecycle = &corev1.Lifecycle{PreStop: &corev1.LifecycleHandler{Sleep: &corev1.SleepAction{Seconds: 60}}}
		}, []string{"FieldValueInvalid " + tp + "containers[0].lifecycle.preStop.sleep"}},
		{"probe on init container forbidden", func(p *corev1.PodTemplateSpec) {
			p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox", ReadinessProbe: httpProbe()}}
		}, []string{"FieldValueForbidden " + tp + "initContainers[0].readinessProbe"}},
		{"probe on sidecar allowed", func(p *corev1.PodTemplateSpec) {
			p.Spec.InitContainers = []corev1.Container{{Name: "side", Image: "busybox", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways), ReadinessProbe: httpProbe()}}
		}, nil},
		{"grpc probe port zero", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{GRPC: &corev1.GRPCAction{}}}
		}, []string{"FieldValueInvalid " + tp + "containers[0].livenessProbe.grpc.port"}},
		{"http probe bad port name and header", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
				Port: intstr.FromString("Not_A_Name"), HTTPHeaders: []corev1.HTTPHeader{{Name: "bad header", Value: "x"}}}}}
		}, []string{"FieldValueInvalid " + tp + "containers[0].readinessProbe.httpGet.port", "FieldValueInvalid " + tp + "containers[0].readinessProbe.httpGet.httpHeaders"}},
		{"http probe bad scheme", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{
				Port: intstr.FromInt32(80), Scheme: "http"}}}
		}, []string{"FieldValueNotSupported " + tp + "containers[0].readinessProbe.httpGet.scheme"}},
		{"stopSignal is an alpha field the server drops", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Lifecycle = &corev1.Lifecycle{StopSignal: ptr.To(corev1.SIGTERM)}
		}, nil},
		{"restart rules on a sidecar", func(p *corev1.PodTemplateSpec) {
			p.Spec.InitContainers = []corev1.Container{{Name: "side", Image: "busybox", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways),
				RestartPolicyRules: []corev1.ContainerRestartRule{{Action: corev1.ContainerRestartRuleActionRestartAllContainers,
					ExitCodes: &corev1.ContainerRestartRuleOnExitCodes{Operator: "Is", Values: []int32{1}}}}}}
		}, []string{"FieldValueNotSupported " + tp + "initContainers[0].restartPolicyRules[0].exitCodes.operator"}},
		{"lifecycle hook without handler", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Lifecycle = &corev1.Lifecycle{PostStart: &corev1.LifecycleHandler{}}
		}, []string{"FieldValueRequired " + tp + "containers[0].lifecycle.postStart"}},
		{"init container restartPolicy Never", func(p *corev1.PodTemplateSpec) {
			p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyNever)}}
		}, nil},
		{"restart rules without exitCodes", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].RestartPolicy = ptr.To(corev1.ContainerRestartPolicyNever)
			p.Spec.Containers[0].RestartPolicyRules = []corev1.ContainerRestartRule{{Action: "Retry"}}
		}, []string{"FieldValueNotSupported " + tp + "containers[0].restartPolicyRules[0].action", "FieldValueRequired " + tp + "containers[0].restartPolicyRules[0].exitCodes"}},
		{"container restartPolicy unknown", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].RestartPolicy = ptr.To[corev1.ContainerRestartPolicy]("Sometimes")
		}, []string{"FieldValueNotSupported " + tp + "containers[0].restartPolicy"}},
	}
}
