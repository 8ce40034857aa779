package manifests

import (
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// RuleImageWhitespace is the rule id of jobsync's warning for an image with
// leading or trailing whitespace: the API server accepts it in a Job's
// template but refuses every Pod created from it.
const RuleImageWhitespace = "image-whitespace"

// deprecatedNodeLabels are the node labels the API server warns about in
// node selectors and topology keys.
var deprecatedNodeLabels = map[string]string{
	`beta.kubernetes.io/arch`:                       `deprecated since v1.14; use "kubernetes.io/arch" instead`,
	`beta.kubernetes.io/os`:                         `deprecated since v1.14; use "kubernetes.io/os" instead`,
	`failure-domain.beta.kubernetes.io/region`:      `deprecated since v1.17; use "topology.kubernetes.io/region" instead`,
	`failure-domain.beta.kubernetes.io/zone`:        `deprecated since v1.17; use "topology.kubernetes.io/zone" instead`,
	`beta.kubernetes.io/instance-type`:              `deprecated since v1.17; use "node.kubernetes.io/instance-type" instead`,
	`app.kubernetes.io/created-by`:                  `deprecated since v1.9`,
	`scheduler.alpha.kubernetes.io/preferAvoidPods`: `deprecated since v1.22; use Taints and Tolerations instead`,
	`node-role.kubernetes.io/master`:                `use "node-role.kubernetes.io/control-plane" instead`,
}

// deprecatedPodAnnotations are the non-functional pod annotations.
var deprecatedPodAnnotations = []struct{ key, msg string }{
	{`scheduler.alpha.kubernetes.io/critical-pod`, `non-functional in v1.16+; use the "priorityClassName" field instead`},
	{`security.alpha.kubernetes.io/sysctls`, `non-functional in v1.11+; use the "sysctls" field instead`},
	{`security.alpha.kubernetes.io/unsafe-sysctls`, `non-functional in v1.11+; use the "sysctls" field instead`},
}

const (
	seccompPodAnnotation       = "seccomp.security.alpha.kubernetes.io/pod"
	seccompContainerAnnotation = "container.seccomp.security.alpha.kubernetes.io/"
	seccompAnnotationMsg       = `non-functional in v1.27+; use the "seccompProfile" field instead`
)

// warnings collects findings for one template.
type warnings []Finding

func (w *warnings) add(p *field.Path, format string, args ...any) {
	*w = append(*w, Finding{Field: p.String(), Message: fmt.Sprintf(format, args...), Rule: RuleUpstream})
}

// podSpecWarnings mirrors warningsForPodSpecAndMeta of the API server (a
// template being created: no old object).
func podSpecWarnings(tpl *corev1.PodTemplateSpec, fld *field.Path) []Finding {
	var w warnings
	spec, sp := &tpl.Spec, fld.Child("spec")
	keys := make([]string, 0, len(spec.NodeSelector))
	for k := range spec.NodeSelector {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if msg, ok := deprecatedNodeLabels[k]; ok {
			w.add(sp.Child("nodeSelector").Key(k), "%s", msg)
		}
	}
	for i, t := range spec.TopologySpreadConstraints {
		p := sp.Child("topologySpreadConstraints").Index(i)
		if msg, ok := deprecatedNodeLabels[t.TopologyKey]; ok {
			w.add(p.Child("topologyKey"), "%s is %s", t.TopologyKey, msg)
		}
		if t.LabelSelector == nil {
			w.add(p.Child("labelSelector"), "a null labelSelector results in matching no pod")
		}
	}
	ann := fld.Child("metadata", "annotations")
	for _, d := range deprecatedPodAnnotations {
		if _, ok := tpl.Annotations[d.key]; ok {
			w.add(ann.Key(d.key), "%s", d.msg)
		}
	}
	w.volumes(spec, sp)
	w.pullSecrets(spec, sp)
	if spec.SecurityContext == nil || spec.SecurityContext.SeccompProfile == nil {
		if _, ok := tpl.Annotations[seccompPodAnnotation]; ok {
			w.add(ann.Key(seccompPodAnnotation), seccompAnnotationMsg)
		}
	}
	visitContainers(spec, sp, func(c *corev1.Container, cp *field.Path) {
		if c.SecurityContext == nil || c.SecurityContext.SeccompProfile == nil {
			if _, ok := tpl.Annotations[seccompContainerAnnotation+c.Name]; ok {
				w.add(ann.Key(seccompContainerAnnotation+c.Name), seccompAnnotationMsg)
			}
		}
		w.imageWhitespace(c, cp)
		w.fractionalBytes(c, cp)
		w.duplicateEnv(c, cp)
	})
	w.ports(spec, sp)
	if g := spec.TerminationGracePeriodSeconds; g != nil && *g < 0 {
		w.add(sp.Child("terminationGracePeriodSeconds"), "must be >= 0; negative values are invalid and will be treated as 1")
	}
	w.affinity(spec, sp)
	return w
}

// imageWhitespace is jobsync's own warning (not the API server's).
func (w *warnings) imageWhitespace(c *corev1.Container, cp *field.Path) {
	if strings.TrimSpace(c.Image) == c.Image {
		return
	}
	*w = append(*w, Finding{
		Field:   cp.Child("image").String(),
		Message: fmt.Sprintf("image %q has leading or trailing whitespace: the Job is accepted, but every Pod created from it is refused (must not have leading or trailing whitespace)", c.Image),
		Rule:    RuleImageWhitespace,
		Hint:    "remove the spaces around the image reference",
	})
}

// deprecatedVolumes maps a volume source to its deprecation message.
var deprecatedVolumes = []struct {
	name string
	set  func(*corev1.VolumeSource) bool
	msg  string
}{
	{"photonPersistentDisk", func(v *corev1.VolumeSource) bool { return v.PhotonPersistentDisk != nil }, "deprecated in v1.11, non-functional in v1.16+"},
	{"gitRepo", func(v *corev1.VolumeSource) bool { return v.GitRepo != nil }, "deprecated in v1.11, and disabled by default in v1.33+"},
	{"scaleIO", func(v *corev1.VolumeSource) bool { return v.ScaleIO != nil }, "deprecated in v1.16, non-functional in v1.22+"},
	{"flocker", func(v *corev1.VolumeSource) bool { return v.Flocker != nil }, "deprecated in v1.22, non-functional in v1.25+"},
	{"storageOS", func(v *corev1.VolumeSource) bool { return v.StorageOS != nil }, "deprecated in v1.22, non-functional in v1.25+"},
	{"quobyte", func(v *corev1.VolumeSource) bool { return v.Quobyte != nil }, "deprecated in v1.22, non-functional in v1.25+"},
	{"glusterfs", func(v *corev1.VolumeSource) bool { return v.Glusterfs != nil }, "deprecated in v1.25, non-functional in v1.26+"},
	{"cephfs", func(v *corev1.VolumeSource) bool { return v.CephFS != nil }, "deprecated in v1.28, non-functional in v1.31+"},
	{"rbd", func(v *corev1.VolumeSource) bool { return v.RBD != nil }, "deprecated in v1.28, non-functional in v1.31+"},
}

func (w *warnings) volumes(spec *corev1.PodSpec, sp *field.Path) {
	for i := range spec.Volumes {
		for _, d := range deprecatedVolumes {
			if d.set(&spec.Volumes[i].VolumeSource) {
				w.add(sp.Child("volumes").Index(i).Child(d.name), "%s", d.msg)
			}
		}
	}
}

func (w *warnings) pullSecrets(spec *corev1.PodSpec, sp *field.Path) {
	seen := sets.New[string]()
	for i, s := range spec.ImagePullSecrets {
		p := sp.Child("imagePullSecrets").Index(i).Child("name")
		if len(spec.ImagePullSecrets) > 1 {
			if seen.Has(s.Name) {
				w.add(p, "duplicate name %q", s.Name)
			} else {
				seen.Insert(s.Name)
			}
		}
	}
	for i, s := range spec.ImagePullSecrets {
		if s.Name == "" {
			w.add(sp.Child("imagePullSecrets").Index(i).Child("name"), "invalid empty name %q", s.Name)
		}
	}
}

// fractionalBytes warns about memory and ephemeral-storage below one byte.
func (w *warnings) fractionalBytes(c *corev1.Container, cp *field.Path) {
	for _, kind := range []struct {
		name string
		rl   corev1.ResourceList
	}{{"limits", c.Resources.Limits}, {"requests", c.Resources.Requests}} {
		for _, r := range []corev1.ResourceName{corev1.ResourceMemory, corev1.ResourceEphemeralStorage} {
			if q, ok := kind.rl[r]; ok && q.MilliValue()%1000 != 0 {
				w.add(cp.Child("resources", kind.name).Key(string(r)), "fractional byte value %q is invalid, must be an integer", q.String())
			}
		}
	}
}

// duplicateEnv warns about an env var that hides an earlier one of the same
// name (unless it only extends it with $(NAME)).
func (w *warnings) duplicateEnv(c *corev1.Container, cp *field.Path) {
	if len(c.Env) < 2 {
		return
	}
	seen := sets.New[string]()
	for i, e := range c.Env {
		if !seen.Has(e.Name) {
			seen.Insert(e.Name)
			continue
		}
		ref := fmt.Sprintf("$(%s)", e.Name)
		if e.ValueFrom != nil || e.Value == ref || !strings.Contains(e.Value, ref) {
			w.add(cp.Child("env").Index(i), "hides previous definition of %q, which may be dropped when using apply", e.Name)
		}
	}
}

type portBlock struct {
	path *field.Path
	port corev1.ContainerPort
}

// ports warns about hostIP without hostPort, duplicate or overlapping port
// definitions and duplicate port names across all containers.
func (w *warnings) ports(spec *corev1.PodSpec, sp *field.Path) {
	all := map[string][]portBlock{}
	visitContainers(spec, sp, func(c *corev1.Container, cp *field.Path) {
		for i, port := range c.Ports {
			p := cp.Child("ports").Index(i)
			if port.HostIP != "" && port.HostPort == 0 {
				w.add(p, "hostIP set without hostPort: %+v", port)
			}
			k := fmt.Sprintf("%d/%s", port.ContainerPort, port.Protocol)
			for _, o := range all[k] {
				w.portConflict(p, port, o)
			}
			all[k] = append(all[k], portBlock{path: p, port: port})
		}
	})
	names := map[string]*field.Path{}
	visitContainers(spec, sp, func(c *corev1.Container, cp *field.Path) {
		for i, port := range c.Ports {
			if port.Name == "" {
				continue
			}
			p := cp.Child("ports").Index(i)
			if other, ok := names[port.Name]; ok {
				w.add(p, "duplicate port name %q with %s, services and probes that select ports by name will use %s", port.Name, other, other)
			} else {
				names[port.Name] = p
			}
		}
	})
}

func (w *warnings) portConflict(p *field.Path, port corev1.ContainerPort, o portBlock) {
	a, b := port.HostIP == "", o.port.HostIP == ""
	switch {
	case port.HostIP == o.port.HostIP && port.HostPort == o.port.HostPort:
		w.add(p, "duplicate port definition with %s", o.path)
	case port.HostPort == 0 || o.port.HostPort == 0:
		w.add(p, "overlapping port definition with %s", o.path)
	case port.HostPort == o.port.HostPort && (a || b) && !(a && b):
		w.add(p, "dangerously ambiguous port definition with %s", o.path)
	}
}

// affinity warns about pod (anti-)affinity terms without a label selector.
func (w *warnings) affinity(spec *corev1.PodSpec, sp *field.Path) {
	if spec.Affinity == nil {
		return
	}
	ap := sp.Child("affinity")
	terms := func(req []corev1.PodAffinityTerm, pref []corev1.WeightedPodAffinityTerm, p *field.Path) {
		for i, t := range req {
			if t.LabelSelector == nil {
				w.add(p.Child("requiredDuringSchedulingIgnoredDuringExecution").Index(i).Child("labelSelector"), "a null labelSelector results in matching no pod")
			}
		}
		for i, t := range pref {
			if t.PodAffinityTerm.LabelSelector == nil {
				w.add(p.Child("preferredDuringSchedulingIgnoredDuringExecution").Index(i).Child("podAffinityTerm", "labelSelector"), "a null labelSelector results in matching no pod")
			}
		}
	}
	if a := spec.Affinity.PodAffinity; a != nil {
		terms(a.RequiredDuringSchedulingIgnoredDuringExecution, a.PreferredDuringSchedulingIgnoredDuringExecution, ap.Child("podAffinity"))
	}
	if a := spec.Affinity.PodAntiAffinity; a != nil {
		terms(a.RequiredDuringSchedulingIgnoredDuringExecution, a.PreferredDuringSchedulingIgnoredDuringExecution, ap.Child("podAntiAffinity"))
	}
}
