package manifests

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// validateEnv mirrors ValidateEnv. RelaxedEnvironmentVariableValidation is GA
// in 1.37: a name is any printable ASCII but '=' (IsRelaxedEnvVarName).
func validateEnv(vars []corev1.EnvVar, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, ev := range vars {
		idx := fld.Index(i)
		if ev.Name == "" {
			allErrs = append(allErrs, field.Required(idx.Child("name"), ""))
		} else {
			for _, msg := range validation.IsRelaxedEnvVarName(ev.Name) {
				allErrs = append(allErrs, field.Invalid(idx.Child("name"), ev.Name, msg))
			}
		}
		allErrs = append(allErrs, validateEnvValueFrom(ev, idx.Child("valueFrom"))...)
	}
	return allErrs
}

var (
	validEnvFieldPaths = sets.New("metadata.name", "metadata.namespace", "metadata.uid",
		"spec.nodeName", "spec.serviceAccountName",
		"status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs")
	validVolumeFieldPaths = sets.New("metadata.name", "metadata.namespace", "metadata.labels",
		"metadata.annotations", "metadata.uid")
	validResourceFieldPaths = sets.New("limits.cpu", "limits.memory", "limits.ephemeral-storage",
		"requests.cpu", "requests.memory", "requests.ephemeral-storage")
)

// validateEnvValueFrom mirrors validateEnvVarValueFrom (EnvFiles is beta and
// on by default in 1.37, so fileKeyRef is one of the sources).
func validateEnvValueFrom(ev corev1.EnvVar, fld *field.Path) field.ErrorList {
	vf := ev.ValueFrom
	if vf == nil {
		return nil
	}
	var allErrs field.ErrorList
	n := 0
	if vf.FieldRef != nil {
		n++
		allErrs = append(allErrs, validateObjectFieldSelector(vf.FieldRef, validEnvFieldPaths, fld.Child("fieldRef"))...)
	}
	if vf.ResourceFieldRef != nil {
		n++
		allErrs = append(allErrs, validateResourceFieldSelector(vf.ResourceFieldRef, false, fld.Child("resourceFieldRef"))...)
	}
	if vf.ConfigMapKeyRef != nil {
		n++
		allErrs = append(allErrs, validateKeySelector(vf.ConfigMapKeyRef.Name, vf.ConfigMapKeyRef.Key, fld.Child("configMapKeyRef"))...)
	}
	if vf.SecretKeyRef != nil {
		n++
		allErrs = append(allErrs, validateKeySelector(vf.SecretKeyRef.Name, vf.SecretKeyRef.Key, fld.Child("secretKeyRef"))...)
	}
	if vf.FileKeyRef != nil {
		n++
		allErrs = append(allErrs, validateFileKeySelector(vf.FileKeyRef, fld.Child("fileKeyRef"))...)
	}
	switch {
	case n == 0:
		allErrs = append(allErrs, field.Invalid(fld, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef`, `secretKeyRef` or `fileKeyRef`"))
	case ev.Value != "":
		allErrs = append(allErrs, field.Invalid(fld, "", "may not be specified when `value` is not empty"))
	case n > 1:
		allErrs = append(allErrs, field.Invalid(fld, "", "may not have more than one field specified at a time"))
	}
	return allErrs
}

// validateKeySelector mirrors validateConfigMapKeySelector and
// validateSecretKeySelector (the same rules and messages). An empty name is
// Invalid, not Required, as upstream.
func validateKeySelector(name, key string, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, msg := range apimachineryvalidation.NameIsDNSSubdomain(name, false) {
		allErrs = append(allErrs, field.Invalid(fld.Child("name"), name, msg))
	}
	if key == "" {
		allErrs = append(allErrs, field.Required(fld.Child("key"), ""))
	} else {
		for _, msg := range validation.IsConfigMapKey(key) {
			allErrs = append(allErrs, field.Invalid(fld.Child("key"), key, msg))
		}
	}
	return allErrs
}

func validateFileKeySelector(s *corev1.FileKeySelector, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if s.Key == "" {
		allErrs = append(allErrs, field.Required(fld.Child("key"), ""))
	} else {
		for _, msg := range validation.IsRelaxedEnvVarName(s.Key) {
			allErrs = append(allErrs, field.Invalid(fld.Child("key"), s.Key, msg))
		}
	}
	if s.VolumeName == "" {
		allErrs = append(allErrs, field.Required(fld.Child("volumeName"), ""))
	} else {
		allErrs = append(allErrs, dns1123Label(s.VolumeName, fld.Child("volumeName"))...)
	}
	if s.Path == "" {
		allErrs = append(allErrs, field.Required(fld.Child("path"), ""))
	} else {
		allErrs = append(allErrs, validatePathNoBacksteps(s.Path, fld.Child("path"))...)
	}
	return allErrs
}

// validateFileKeyRefVolumes mirrors validateFileKeyRefVolumes: a fileKeyRef
// names an emptyDir volume of the pod.
func validateFileKeyRefVolumes(spec *corev1.PodSpec, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	vols := map[string]*corev1.VolumeSource{}
	for i := range spec.Volumes {
		vols[spec.Volumes[i].Name] = &spec.Volumes[i].VolumeSource
	}
	visitContainers(spec, fld, func(c *corev1.Container, cp *field.Path) {
		for j, env := range c.Env {
			if env.ValueFrom == nil || env.ValueFrom.FileKeyRef == nil {
				continue
			}
			name := env.ValueFrom.FileKeyRef.VolumeName
			p := cp.Child("env").Index(j).Child("valueFrom", "fileKeyRef", "volumeName")
			if src, ok := vols[name]; !ok {
				allErrs = append(allErrs, field.NotFound(p, name))
			} else if src.EmptyDir == nil {
				allErrs = append(allErrs, field.Invalid(p, name, "referenced volume must be of type emptyDir"))
			}
		}
	})
	return allErrs
}

// visitContainers calls fn for each init container then each container, with
// its field path, as upstream's VisitContainersWithPath.
func visitContainers(spec *corev1.PodSpec, specPath *field.Path, fn func(*corev1.Container, *field.Path)) {
	for i := range spec.InitContainers {
		fn(&spec.InitContainers[i], specPath.Child("initContainers").Index(i))
	}
	for i := range spec.Containers {
		fn(&spec.Containers[i], specPath.Child("containers").Index(i))
	}
}

// validateObjectFieldSelector mirrors validateObjectFieldSelector for v1
// field paths (labels/annotations may be subscripted).
func validateObjectFieldSelector(fs *corev1.ObjectFieldSelector, valid sets.Set[string], fld *field.Path) field.ErrorList {
	if fs.APIVersion == "" {
		return field.ErrorList{field.Required(fld.Child("apiVersion"), "")}
	}
	if fs.FieldPath == "" {
		return field.ErrorList{field.Required(fld.Child("fieldPath"), "")}
	}
	internal, err := convertDownwardAPIFieldLabel(fs.APIVersion, fs.FieldPath)
	if err != nil {
		return field.ErrorList{field.Invalid(fld.Child("fieldPath"), fs.FieldPath, "error converting fieldPath: "+err.Error())}
	}
	path, subscript, ok := splitSubscriptedPath(internal)
	if !ok {
		if !valid.Has(path) {
			return field.ErrorList{field.NotSupported(fld.Child("fieldPath"), path, sets.List(valid))}
		}
		return nil
	}
	var allErrs field.ErrorList
	switch path {
	case "metadata.annotations":
		subscript = strings.ToLower(subscript)
		fallthrough
	case "metadata.labels":
		for _, msg := range validation.IsQualifiedName(subscript) {
			allErrs = append(allErrs, field.Invalid(fld, subscript, msg))
		}
	default:
		allErrs = append(allErrs, field.Invalid(fld, path, "does not support subscript"))
	}
	return allErrs
}

var convertibleFieldLabels = sets.New("metadata.annotations", "metadata.labels", "metadata.name",
	"metadata.namespace", "metadata.uid", "spec.nodeName", "spec.restartPolicy",
	"spec.serviceAccountName", "spec.schedulerName", "status.phase", "status.hostIP",
	"status.hostIPs", "status.podIP", "status.podIPs")

// convertDownwardAPIFieldLabel mirrors the API server's conversion of a v1
// downward API field path to its internal form.
func convertDownwardAPIFieldLabel(version, label string) (string, error) {
	if version != "v1" {
		return "", fmt.Errorf("unsupported pod version: %s", version)
	}
	if path, _, ok := splitSubscriptedPath(label); ok {
		if path == "metadata.annotations" || path == "metadata.labels" {
			return label, nil
		}
		return "", fmt.Errorf("field label does not support subscript: %s", label)
	}
	switch {
	case convertibleFieldLabels.Has(label):
		return label, nil
	case label == "spec.host":
		return "spec.nodeName", nil
	}
	return "", fmt.Errorf("field label not supported: %s", label)
}

// splitSubscriptedPath splits "metadata.labels['key']" into path and key.
func splitSubscriptedPath(p string) (string, string, bool) {
	if !strings.HasSuffix(p, "']") {
		return p, "", false
	}
	s := strings.TrimSuffix(p, "']")
	parts := strings.SplitN(s, "['", 2)
	if len(parts) < 2 || len(parts[0]) == 0 {
		return p, "", false
	}
	return parts[0], parts[1], true
}

// validateResourceFieldSelector mirrors validateContainerResourceFieldSelector
// (without the divisor rules).
func validateResourceFieldSelector(fs *corev1.ResourceFieldSelector, volume bool, fld *field.Path) field.ErrorList {
	switch {
	case volume && fs.ContainerName == "":
		return field.ErrorList{field.Required(fld.Child("containerName"), "")}
	case fs.Resource == "":
		return field.ErrorList{field.Required(fld.Child("resource"), "")}
	case validResourceFieldPaths.Has(fs.Resource),
		strings.HasPrefix(fs.Resource, "requests.hugepages-"),
		strings.HasPrefix(fs.Resource, "limits.hugepages-"):
		return nil
	}
	return field.ErrorList{field.NotSupported(fld.Child("resource"), fs.Resource, sets.List(validResourceFieldPaths))}
}

// validateEnvFrom mirrors ValidateEnvFrom.
func validateEnvFrom(vars []corev1.EnvFromSource, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, ev := range vars {
		idx := fld.Index(i)
		if ev.Prefix != "" {
			for _, msg := range validation.IsRelaxedEnvVarName(ev.Prefix) {
				allErrs = append(allErrs, field.Invalid(idx.Child("prefix"), ev.Prefix, msg))
			}
		}
		n := 0
		if ev.ConfigMapRef != nil {
			n++
			allErrs = append(allErrs, validateEnvSourceName(ev.ConfigMapRef.Name, idx.Child("configMapRef"))...)
		}
		if ev.SecretRef != nil {
			n++
			allErrs = append(allErrs, validateEnvSourceName(ev.SecretRef.Name, idx.Child("secretRef"))...)
		}
		if n == 0 {
			allErrs = append(allErrs, field.Invalid(fld, "", "must specify one of: `configMapRef` or `secretRef`"))
		} else if n > 1 {
			allErrs = append(allErrs, field.Invalid(fld, "", "may not have more than one field specified at a time"))
		}
	}
	return allErrs
}

func validateEnvSourceName(name string, fld *field.Path) field.ErrorList {
	if name == "" {
		return field.ErrorList{field.Required(fld.Child("name"), "")}
	}
	var allErrs field.ErrorList
	for _, msg := range apimachineryvalidation.NameIsDNSSubdomain(name, true) {
		allErrs = append(allErrs, field.Invalid(fld.Child("name"), name, msg))
	}
	return allErrs
}
