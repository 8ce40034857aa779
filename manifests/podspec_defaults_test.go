package manifests

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
)

func TestPodImagePullPolicyDefault(t *testing.T) {
	tests := []struct {
		image string
		want  corev1.PullPolicy
	}{
		{"busybox", corev1.PullAlways},
		{"busybox:latest", corev1.PullAlways},
		{"busybox:1.36", corev1.PullIfNotPresent},
		{"registry.example.com:5000/team/app", corev1.PullAlways},
		{"registry.example.com:5000/team/app:v2", corev1.PullIfNotPresent},
		{"busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", corev1.PullIfNotPresent},
		{"busybox:latest@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", corev1.PullAlways},
		{"Busybox", corev1.PullIfNotPresent},
		{"", corev1.PullIfNotPresent},
	}
	for _, tc := range tests {
		t.Run(tc.image, func(t *testing.T) {
			c := corev1.Container{Name: "c", Image: tc.image}
			setContainerDefaults(&c)
			if c.ImagePullPolicy != tc.want {
				t.Errorf("imagePullPolicy = %q, want %q", c.ImagePullPolicy, tc.want)
			}
		})
	}
}

func TestPodTemplateDefaults(t *testing.T) {
	tpl := &corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		Volumes: []corev1.Volume{
			{Name: "scratch"},
			{Name: "cfg", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "c"}}}},
			{Name: "sec", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "s"}}},
			{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/x"}}},
		},
		Containers: []corev1.Container{{
			Name: "main", Image: "busybox:1.36",
			Ports:          []corev1.ContainerPort{{ContainerPort: 80}},
			Env:            []corev1.EnvVar{{Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}},
			Resources:      corev1.ResourceRequirements{Limits: corev1.ResourceList{"cpu": resource.MustParse("0.0001")}},
			ReadinessProbe: &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(80)}}},
		}},
	}}
	setPodTemplateDefaults(tpl)
	s := tpl.Spec
	checks := []struct {
		name      string
		got, want any
	}{
		{"restartPolicy", s.RestartPolicy, corev1.RestartPolicyAlways},
		{"dnsPolicy", s.DNSPolicy, corev1.DNSClusterFirst},
		{"schedulerName", s.SchedulerName, "default-scheduler"},
		{"terminationGracePeriodSeconds", *s.TerminationGracePeriodSeconds, int64(30)},
		{"securityContext", *s.SecurityContext, corev1.PodSecurityContext{}},
		{"emptyDir", s.Volumes[0].EmptyDir != nil, true},
		{"configMap defaultMode", *s.Volumes[1].ConfigMap.DefaultMode, int32(0o644)},
		{"secret defaultMode", *s.Volumes[2].Secret.DefaultMode, int32(0o644)},
		{"hostPath type", *s.Volumes[3].HostPath.Type, corev1.HostPathUnset},
		{"imagePullPolicy", s.Containers[0].ImagePullPolicy, corev1.PullIfNotPresent},
		{"terminationMessagePath", s.Containers[0].TerminationMessagePath, "/dev/termination-log"},
		{"terminationMessagePolicy", s.Containers[0].TerminationMessagePolicy, corev1.TerminationMessageReadFile},
		{"port protocol", s.Containers[0].Ports[0].Protocol, corev1.ProtocolTCP},
		{"fieldRef apiVersion", s.Containers[0].Env[0].ValueFrom.FieldRef.APIVersion, "v1"},
		{"cpu rounded up to milli", s.Containers[0].Resources.Limits.Cpu().String(), "1m"},
		{"requests not copied from limits", len(s.Containers[0].Resources.Requests), 0},
		{"probe period", s.Containers[0].ReadinessProbe.PeriodSeconds, int32(10)},
		{"probe http path", s.Containers[0].ReadinessProbe.HTTPGet.Path, "/"},
		{"probe http scheme", s.Containers[0].ReadinessProbe.HTTPGet.Scheme, corev1.URISchemeHTTP},
	}
	for _, c := range checks {
		if diff := cmp.Diff(c.want, c.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}

	tpl.Spec.RestartPolicy = corev1.RestartPolicyNever
	setPodTemplateDefaults(tpl)
	if tpl.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy overwritten: %q", tpl.Spec.RestartPolicy)
	}
	if errs := validatePodTemplate(tpl, field.NewPath("spec", "template")); len(errs) != 0 {
		t.Errorf("defaulted template not valid: %v", errs)
	}
}

// podWarningCase is a template change and the warnings it gives
// ("field: message", in the API server's order).
type podWarningCase = struct {
	name   string
	mutate func(*corev1.PodTemplateSpec)
	want   []string
}

func TestPodTemplateWarnings(t *testing.T) {
	for _, tc := range podWarningCases() {
		t.Run(tc.name, func(t *testing.T) {
			tpl := validTemplate()
			tc.mutate(tpl)
			setPodTemplateDefaults(tpl)
			var got []string
			for _, f := range podTemplateWarnings(tpl, field.NewPath("spec", "template")) {
				if f.Rule == RuleImageWhitespace {
					got = append(got, "["+f.Rule+"] "+f.Field)
					continue
				}
				if f.Rule != RuleUpstream || f.Type != "" {
					t.Errorf("warning %+v: want rule %q and no type", f, RuleUpstream)
				}
				got = append(got, f.Field+": "+f.Message)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("warnings:\n got  %q\n want %q", got, tc.want)
			}
		})
	}
}

func podWarningCases() []podWarningCase {
	return []podWarningCase{
		{"none", func(*corev1.PodTemplateSpec) {}, nil},
		{"image with whitespace (jobsync's own)", func(p *corev1.PodTemplateSpec) {
			p.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox:1.36 "}}
		}, []string{"[image-whitespace] spec.template.spec.initContainers[0].image"}},
		{"deprecated node label", func(p *corev1.PodTemplateSpec) {
			p.Spec.NodeSelector = map[string]string{"beta.kubernetes.io/os": "linux"}
		}, []string{`spec.template.spec.nodeSelector[beta.kubernetes.io/os]: deprecated since v1.14; use "kubernetes.io/os" instead`}},
		{"non-functional annotation", func(p *corev1.PodTemplateSpec) {
			p.Annotations = map[string]string{"scheduler.alpha.kubernetes.io/critical-pod": ""}
		}, []string{`spec.template.metadata.annotations[scheduler.alpha.kubernetes.io/critical-pod]: non-functional in v1.16+; use the "priorityClassName" field instead`}},
		{"seccomp annotation", func(p *corev1.PodTemplateSpec) {
			p.Annotations = map[string]string{"seccomp.security.alpha.kubernetes.io/pod": "runtime/default"}
		}, []string{`spec.template.metadata.annotations[seccomp.security.alpha.kubernetes.io/pod]: non-functional in v1.27+; use the "seccompProfile" field instead`}},
		{"duplicate env", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Env = []corev1.EnvVar{{Name: "A", Value: "1"}, {Name: "A", Value: "2"}, {Name: "A", Value: "$(A):3"}}
		}, []string{`spec.template.spec.containers[0].env[1]: hides previous definition of "A", which may be dropped when using apply`}},
		{"fractional memory", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{"memory": resource.MustParse("0.5")}
		}, []string{`spec.template.spec.containers[0].resources.requests[memory]: fractional byte value "500m" is invalid, must be an integer`}},
		{"duplicate ports and names", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{Name: "http", ContainerPort: 80}}
			p.Spec.InitContainers = []corev1.Container{{Name: "side", Image: "busybox", RestartPolicy: ptr.To(corev1.ContainerRestartPolicyAlways),
				Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 80}}}}
		}, []string{
			`spec.template.spec.containers[0].ports[0]: duplicate port definition with spec.template.spec.initContainers[0].ports[0]`,
			`spec.template.spec.containers[0].ports[0]: duplicate port name "http" with spec.template.spec.initContainers[0].ports[0], services and probes that select ports by name will use spec.template.spec.initContainers[0].ports[0]`,
		}},
		{"deprecated volume", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = []corev1.Volume{{Name: "src", VolumeSource: corev1.VolumeSource{GitRepo: &corev1.GitRepoVolumeSource{Repository: "https://x"}}}}
		}, []string{`spec.template.spec.volumes[0].gitRepo: deprecated in v1.11, and disabled by default in v1.33+`}},
		{"pull secrets", func(p *corev1.PodTemplateSpec) {
			p.Spec.ImagePullSecrets = []corev1.LocalObjectReference{{Name: "r"}, {Name: "r"}, {}}
		}, []string{
			`spec.template.spec.imagePullSecrets[1].name: duplicate name "r"`,
			`spec.template.spec.imagePullSecrets[2].name: invalid empty name ""`,
		}},
		{"negative grace period", func(p *corev1.PodTemplateSpec) { p.Spec.TerminationGracePeriodSeconds = ptr.To[int64](-1) },
			[]string{`spec.template.spec.terminationGracePeriodSeconds: must be >= 0; negative values are invalid and will be treated as 1`}},
		{"null topology selector", func(p *corev1.PodTemplateSpec) {
			p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{{MaxSkew: 1, TopologyKey: "failure-domain.beta.kubernetes.io/zone", WhenUnsatisfiable: corev1.DoNotSchedule}}
		}, []string{
			`spec.template.spec.topologySpreadConstraints[0].topologyKey: failure-domain.beta.kubernetes.io/zone is deprecated since v1.17; use "topology.kubernetes.io/zone" instead`,
			`spec.template.spec.topologySpreadConstraints[0].labelSelector: a null labelSelector results in matching no pod`,
		}},
	}
}

// BenchmarkPodTemplate defaults, validates and warns on a realistic template
// (two containers, volumes, probes, env, tolerations).
func BenchmarkPodTemplate(b *testing.B) {
	base := validTemplate()
	base.Labels = map[string]string{"app": "report", "tier": "batch"}
	base.Spec.Volumes = []corev1.Volume{{Name: "scratch"}, {Name: "cfg", VolumeSource: corev1.VolumeSource{
		ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "settings"}}}}}
	base.Spec.Tolerations = []corev1.Toleration{{Key: "dedicated", Value: "batch", Effect: corev1.TaintEffectNoSchedule}}
	c := &base.Spec.Containers[0]
	c.Env = []corev1.EnvVar{{Name: "A", Value: "1"}, {Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}}}
	c.Resources = corev1.ResourceRequirements{Requests: corev1.ResourceList{"cpu": resource.MustParse("100m"), "memory": resource.MustParse("64Mi")},
		Limits: corev1.ResourceList{"cpu": resource.MustParse("1"), "memory": resource.MustParse("64Mi")}}
	c.VolumeMounts = []corev1.VolumeMount{{Name: "scratch", MountPath: "/tmp"}, {Name: "cfg", MountPath: "/etc/app"}}
	c.LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(8080)}}}
	base.Spec.Containers = append(base.Spec.Containers, corev1.Container{Name: "sidecar", Image: "busybox", Ports: []corev1.ContainerPort{{ContainerPort: 9090}}})
	fld := field.NewPath("spec", "template")
	b.ReportAllocs()
	for b.Loop() {
		tpl := base.DeepCopy()
		setPodTemplateDefaults(tpl)
		if errs := validatePodTemplate(tpl, fld); len(errs) != 0 {
			b.Fatal(errs)
		}
		_ = podTemplateWarnings(tpl, fld)
	}
}
