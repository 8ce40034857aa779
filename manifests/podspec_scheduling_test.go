package manifests

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestPodTemplateScheduling(t *testing.T) { runPodCases(t, podSchedulingCases()) }

func podSchedulingCases() []podCase {
	const aff = tp + "affinity."
	nodeTerm := func(rq ...corev1.NodeSelectorRequirement) *corev1.Affinity {
		return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: rq}}}}}
	}
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "report"}}
	return []podCase{
		{"node affinity valid", func(p *corev1.PodTemplateSpec) {
			p.Spec.Affinity = nodeTerm(corev1.NodeSelectorRequirement{Key: "kubernetes.io/arch", Operator: corev1.NodeSelectorOpIn, Values: []string{"amd64"}})
		}, nil},
		{"node affinity In without values", func(p *corev1.PodTemplateSpec) {
			p.Spec.Affinity = nodeTerm(corev1.NodeSelectorRequirement{Key: "disk", Operator: corev1.NodeSelectorOpIn})
		}, []string{"FieldValueRequired " + aff + "nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values"}},
		{"node affinity bad operator and value", func(p *corev1.PodTemplateSpec) {
			p.Spec.Affinity = nodeTerm(corev1.NodeSelectorRequirement{Key: "disk", Operator: "in", Values: []string{"a b"}})
		}, []string{
			"FieldValueInvalid " + aff + "nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator",
			"FieldValueInvalid " + aff + "nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values[0]",
		}},
		{"node affinity Exists with values", func(p *corev1.PodTemplateSpec) {
			p.Spec.Affinity = nodeTerm(corev1.NodeSelectorRequirement{Key: "disk", Operator: corev1.NodeSelectorOpExists, Values: []string{"x"}})
		}, []string{"FieldValueForbidden " + aff + "nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].values"}},
		{"node affinity no terms", func(p *corev1.PodTemplateSpec) {
			p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{}}}
		}, []string{"FieldValueRequired " + aff + "nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms"}},
		{"preferred node affinity weight", func(p *corev1.PodTemplateSpec) {
			p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.PreferredSchedulingTerm{{Weight: 0}}}}
		}, []string{"FieldValueInvalid " + aff + "nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight"}},
		{"node field selector bad key", func(p *corev1.PodTemplateSpec) {
			p.Spec.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
				NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{{Key: "spec.nodeName", Operator: corev1.NodeSelectorOpIn, Values: []string{"n1"}}}}}}}}
		}, []string{"FieldValueInvalid " + aff + "nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].key"}},
		{"pod anti-affinity without topologyKey", func(p *corev1.PodTemplateSpec) {
			p.Spec.Affinity = &corev1.Affinity{PodAntiAffinity: &corev1.PodAntiAffinity{RequiredDuringSchedulingIgnoredDuringExecution: []corev1.PodAffinityTerm{{LabelSelector: sel}}}}
		}, []string{"FieldValueRequired " + aff + "podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey",
			"FieldValueInvalid " + aff + "podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey",
			"FieldValueInvalid " + aff + "podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey"}},
		{"pod affinity bad selector and weight", func(p *corev1.PodTemplateSpec) {
			p.Spec.Affinity = &corev1.Affinity{PodAffinity: &corev1.PodAffinity{PreferredDuringSchedulingIgnoredDuringExecution: []corev1.WeightedPodAffinityTerm{{
				Weight: 101, PodAffinityTerm: corev1.PodAffinityTerm{TopologyKey: "kubernetes.io/hostname", LabelSelector: &metav1.LabelSelector{
					MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "app", Operator: "Equals"}}}}}}}}
		}, []string{"FieldValueInvalid " + aff + "podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight",
			"FieldValueInvalid " + aff + "podAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.labelSelector.matchExpressions[0].operator"}},
		{"topology spread invalid", func(p *corev1.PodTemplateSpec) {
			p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{
				{MaxSkew: 0, TopologyKey: "zone", WhenUnsatisfiable: "Never", LabelSelector: sel},
				{MaxSkew: 1, WhenUnsatisfiable: corev1.ScheduleAnyway, MinDomains: ptr.To[int32](2), LabelSelector: sel},
			}
		}, []string{
			"FieldValueInvalid " + tp + "topologySpreadConstraints[0].maxSkew",
			"FieldValueNotSupported " + tp + "topologySpreadConstraints[0].whenUnsatisfiable",
			"FieldValueRequired " + tp + "topologySpreadConstraints[1].topologyKey",
			"FieldValueInvalid " + tp + "topologySpreadConstraints[1].minDomains",
		}},
		{"topology spread duplicate", func(p *corev1.PodTemplateSpec) {
			c := corev1.TopologySpreadConstraint{MaxSkew: 1, TopologyKey: "zone", WhenUnsatisfiable: corev1.DoNotSchedule, LabelSelector: sel}
			p.Spec.TopologySpreadConstraints = []corev1.TopologySpreadConstraint{c, c}
		}, []string{"FieldValueDuplicate " + tp + "topologySpreadConstraints[0].{topologyKey, whenUnsatisfiable}"}},
		{"dnsPolicy None without config", func(p *corev1.PodTemplateSpec) { p.Spec.DNSPolicy = corev1.DNSNone }, []string{"FieldValueRequired " + tp + "dnsConfig"}},
		{"dnsConfig invalid", func(p *corev1.PodTemplateSpec) {
			p.Spec.DNSConfig = &corev1.PodDNSConfig{Nameservers: []string{"1.1.1.1", "8.8.8.8", "9.9.9.9", "dns.local"},
				Searches: []string{"svc.cluster.local.", "bad search"}, Options: []corev1.PodDNSConfigOption{{}}}
		}, []string{
			"FieldValueInvalid " + tp + "dnsConfig.nameservers",
			"FieldValueInvalid " + tp + "dnsConfig.nameservers[3]",
			"FieldValueInvalid " + tp + "dnsConfig.searches[1]",
			"FieldValueRequired " + tp + "dnsConfig.options[0]",
		}},
		{"hostNetwork with different hostPort", func(p *corev1.PodTemplateSpec) {
			p.Spec.HostNetwork = true
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080}, {ContainerPort: 81}}
		}, []string{"FieldValueInvalid " + tp + "containers[0].ports[0].hostPort"}},
		{"hostAliases invalid", func(p *corev1.PodTemplateSpec) {
			p.Spec.HostAliases = []corev1.HostAlias{{IP: "010.0.0.1", Hostnames: []string{"Bad_Host"}}}
		}, []string{"FieldValueInvalid " + tp + "hostAliases[0].ip", "FieldValueInvalid " + tp + "hostAliases[0].hostnames[0]"}},
		{"seccomp profiles", func(p *corev1.PodTemplateSpec) {
			p.Spec.SecurityContext = &corev1.PodSecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeLocalhost}}
			p.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{SeccompProfile: &corev1.SeccompProfile{Type: "Default", LocalhostProfile: ptr.To("p.json")}}
		}, []string{
			"FieldValueRequired " + tp + "securityContext.seccompProfile.localhostProfile",
			"FieldValueNotSupported " + tp + "containers[0].securityContext.seccompProfile.type",
			"FieldValueInvalid " + tp + "containers[0].securityContext.seccompProfile.localhostProfile",
		}},
	}
}

func TestPodTemplateMoreVolumesAndPorts(t *testing.T) { runPodCases(t, podMoreCases()) }

func podMoreCases() []podCase {
	claim := func(spec corev1.PersistentVolumeClaimSpec) []corev1.Volume {
		return []corev1.Volume{{Name: "scratch", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{
			VolumeClaimTemplate: &corev1.PersistentVolumeClaimTemplate{Spec: spec}}}}}
	}
	storage := corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{"storage": resource.MustParse("1Gi")}}
	const eph = tp + "volumes[0].ephemeral."
	return []podCase{
		{"ephemeral volume valid", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = claim(corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}, Resources: storage})
		}, nil},
		{"ephemeral volume without template", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = []corev1.Volume{{Name: "scratch", VolumeSource: corev1.VolumeSource{Ephemeral: &corev1.EphemeralVolumeSource{}}}}
		}, []string{"FieldValueRequired " + eph + "volumeClaimTemplate"}},
		{"ephemeral claim without modes and storage", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = claim(corev1.PersistentVolumeClaimSpec{StorageClassName: ptr.To("Fast_SSD")})
			p.Spec.Volumes[0].Ephemeral.VolumeClaimTemplate.Name = "named"
		}, []string{
			"FieldValueForbidden " + eph + "volumeClaimTemplate.metadata.name",
			"FieldValueRequired " + eph + "volumeClaimTemplate.spec.accessModes",
			"FieldValueRequired " + eph + "volumeClaimTemplate.spec.resources[storage]",
			"FieldValueInvalid " + eph + "volumeClaimTemplate.spec.storageClassName",
		}},
		{"ephemeral claim bad mode", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = claim(corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{"ReadWriteAll", corev1.ReadWriteOncePod, corev1.ReadOnlyMany},
				Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{"storage": resource.MustParse("0")}}})
		}, []string{
			"FieldValueNotSupported " + eph + "volumeClaimTemplate.spec.accessModes",
			"FieldValueForbidden " + eph + "volumeClaimTemplate.spec.accessModes",
			"FieldValueInvalid " + eph + "volumeClaimTemplate.spec.resources[storage]",
		}},
		{"csi volume without driver", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{}}}}
		}, []string{"FieldValueRequired " + tp + "volumes[0].csi.driver"}},
		{"csi volume bad driver and secret", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{CSI: &corev1.CSIVolumeSource{
				Driver: "secrets_store", NodePublishSecretRef: &corev1.LocalObjectReference{Name: "Bad_Secret"}}}}}
		}, []string{"FieldValueInvalid " + tp + "volumes[0].csi.driver", "FieldValueInvalid " + tp + "volumes[0].csi.name"}},
		{"nfs volume relative path", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{NFS: &corev1.NFSVolumeSource{Path: "exports"}}}}
		}, []string{"FieldValueRequired " + tp + "volumes[0].nfs.server", "FieldValueInvalid " + tp + "volumes[0].nfs.path"}},
		{"host port conflict across containers", func(p *corev1.PodTemplateSpec) {
			p.Spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8080}}
			p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: "b", Image: "busybox", Ports: []corev1.ContainerPort{{ContainerPort: 81, HostPort: 8080}}})
		}, []string{"FieldValueDuplicate " + tp + "containers[1].ports[0].hostPort"}},
		{"host port conflict in an init container", func(p *corev1.PodTemplateSpec) {
			p.Spec.InitContainers = []corev1.Container{{Name: "a", Image: "busybox"}, {Name: "b", Image: "busybox",
				Ports: []corev1.ContainerPort{{ContainerPort: 80, HostPort: 9000}, {ContainerPort: 81, HostPort: 9000}}}}
		}, []string{"FieldValueDuplicate " + tp + "initContainers[0].ports[1].hostPort"}},
		{"mount propagation and recursive read-only", func(p *corev1.PodTemplateSpec) {
			p.Spec.Volumes = []corev1.Volume{{Name: "a"}, {Name: "b"}}
			p.Spec.Containers[0].VolumeMounts = []corev1.VolumeMount{
				{Name: "a", MountPath: "/a", MountPropagation: ptr.To(corev1.MountPropagationBidirectional)},
				{Name: "b", MountPath: "/b", RecursiveReadOnly: ptr.To(corev1.RecursiveReadOnlyEnabled)},
			}
		}, []string{"FieldValueForbidden " + tp + "containers[0].volumeMounts.mountPropagation", "FieldValueForbidden " + tp + "containers[0].volumeMounts.recursiveReadOnly"}},
		{"pod OS unknown", func(p *corev1.PodTemplateSpec) { p.Spec.OS = &corev1.PodOS{Name: "darwin"} }, []string{"FieldValueNotSupported " + tp + "os"}},
		{"pod deletion cost not an integer", func(p *corev1.PodTemplateSpec) {
			p.Annotations = map[string]string{"controller.kubernetes.io/pod-deletion-cost": "+10"}
		}, []string{"FieldValueInvalid spec.template.annotations[controller.kubernetes.io/pod-deletion-cost]"}},
		{"readiness and scheduling gates", func(p *corev1.PodTemplateSpec) {
			p.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "bad gate"}}
			p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "example.com/quota"}, {Name: "example.com/quota"}}
		}, []string{"FieldValueInvalid " + tp + "readinessGates[0].conditionType", "FieldValueDuplicate " + tp + "schedulingGates[1]"}},
	}
}
