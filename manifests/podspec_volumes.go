package manifests

import (
	"path"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

const (
	fileModeErrorMsg = "must be a number between 0 and 0777 (octal), both inclusive"
)

// validateVolumes mirrors ValidateVolumes: DNS-label names, unique, one
// source each. It returns the valid volumes by name for volumeMounts.
func validateVolumes(volumes []corev1.Volume, fld *field.Path) (map[string]corev1.VolumeSource, field.ErrorList) {
	var allErrs field.ErrorList
	names := sets.New[string]()
	vols := map[string]corev1.VolumeSource{}
	for i := range volumes {
		vol := &volumes[i]
		idx := fld.Index(i)
		el := validateVolumeSource(&vol.VolumeSource, idx)
		if vol.Name == "" {
			el = append(el, field.Required(idx.Child("name"), ""))
		} else {
			el = append(el, dns1123Label(vol.Name, idx.Child("name"))...)
		}
		if names.Has(vol.Name) {
			el = append(el, field.Duplicate(idx.Child("name"), vol.Name))
		}
		if len(el) == 0 {
			names.Insert(vol.Name)
			vols[vol.Name] = vol.VolumeSource
		} else {
			allErrs = append(allErrs, el...)
		}
	}
	return vols, allErrs
}

// volumeSourceOrder lists VolumeSource's members in the order the API server
// checks them (the first one set wins; each further one is "may not specify
// more than 1 volume type"), with the path segment the API server uses for
// that error (its typos included).
var volumeSourceOrder = []struct {
	goName, errName string
	set             func(*corev1.VolumeSource) bool
}{
	{"EmptyDir", "emptyDir", func(v *corev1.VolumeSource) bool { return v.EmptyDir != nil }},
	{"HostPath", "hostPath", func(v *corev1.VolumeSource) bool { return v.HostPath != nil }},
	{"GitRepo", "gitRepo", func(v *corev1.VolumeSource) bool { return v.GitRepo != nil }},
	{"GCEPersistentDisk", "gcePersistentDisk", func(v *corev1.VolumeSource) bool { return v.GCEPersistentDisk != nil }},
	{"AWSElasticBlockStore", "awsElasticBlockStore", func(v *corev1.VolumeSource) bool { return v.AWSElasticBlockStore != nil }},
	{"Secret", "secret", func(v *corev1.VolumeSource) bool { return v.Secret != nil }},
	{"NFS", "nfs", func(v *corev1.VolumeSource) bool { return v.NFS != nil }},
	{"ISCSI", "iscsi", func(v *corev1.VolumeSource) bool { return v.ISCSI != nil }},
	{"Glusterfs", "glusterfs", func(v *corev1.VolumeSource) bool { return v.Glusterfs != nil }},
	{"Flocker", "flocker", func(v *corev1.VolumeSource) bool { return v.Flocker != nil }},
	{"PersistentVolumeClaim", "persistentVolumeClaim", func(v *corev1.VolumeSource) bool { return v.PersistentVolumeClaim != nil }},
	{"RBD", "rbd", func(v *corev1.VolumeSource) bool { return v.RBD != nil }},
	{"Cinder", "cinder", func(v *corev1.VolumeSource) bool { return v.Cinder != nil }},
	{"CephFS", "cephFS", func(v *corev1.VolumeSource) bool { return v.CephFS != nil }},
	{"Quobyte", "quobyte", func(v *corev1.VolumeSource) bool { return v.Quobyte != nil }},
	{"DownwardAPI", "downwarAPI", func(v *corev1.VolumeSource) bool { return v.DownwardAPI != nil }},
	{"FC", "fc", func(v *corev1.VolumeSource) bool { return v.FC != nil }},
	{"FlexVolume", "flexVolume", func(v *corev1.VolumeSource) bool { return v.FlexVolume != nil }},
	{"ConfigMap", "configMap", func(v *corev1.VolumeSource) bool { return v.ConfigMap != nil }},
	{"AzureFile", "azureFile", func(v *corev1.VolumeSource) bool { return v.AzureFile != nil }},
	{"VsphereVolume", "vsphereVolume", func(v *corev1.VolumeSource) bool { return v.VsphereVolume != nil }},
	{"PhotonPersistentDisk", "photonPersistentDisk", func(v *corev1.VolumeSource) bool { return v.PhotonPersistentDisk != nil }},
	{"PortworxVolume", "portworxVolume", func(v *corev1.VolumeSource) bool { return v.PortworxVolume != nil }},
	{"AzureDisk", "azureDisk", func(v *corev1.VolumeSource) bool { return v.AzureDisk != nil }},
	{"StorageOS", "storageos", func(v *corev1.VolumeSource) bool { return v.StorageOS != nil }},
	{"Projected", "projected", func(v *corev1.VolumeSource) bool { return v.Projected != nil }},
	{"ScaleIO", "scaleIO", func(v *corev1.VolumeSource) bool { return v.ScaleIO != nil }},
	{"CSI", "csi", func(v *corev1.VolumeSource) bool { return v.CSI != nil }},
	{"Ephemeral", "ephemeral", func(v *corev1.VolumeSource) bool { return v.Ephemeral != nil }},
	{"Image", "image", func(v *corev1.VolumeSource) bool { return v.Image != nil }},
}

// validateVolumeSource mirrors validateVolumeSource for the common sources;
// the rarer ones are counted (exactly one source) but not looked into.
func validateVolumeSource(src *corev1.VolumeSource, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	first := ""
	for _, s := range volumeSourceOrder {
		if !s.set(src) {
			continue
		}
		if first != "" {
			allErrs = append(allErrs, field.Forbidden(fld.Child(s.errName), "may not specify more than 1 volume type"))
			continue
		}
		first = s.goName
	}
	switch first {
	case "":
		return append(allErrs, field.Required(fld, "must specify a volume type"))
	case "EmptyDir":
		allErrs = append(allErrs, validateEmptyDir(src.EmptyDir, fld.Child("emptyDir"))...)
	case "HostPath":
		allErrs = append(allErrs, validateHostPath(src.HostPath, fld.Child("hostPath"))...)
	case "Secret":
		allErrs = append(allErrs, validateSecretVolume(src.Secret, fld.Child("secret"))...)
	case "ConfigMap":
		allErrs = append(allErrs, validateConfigMapVolume(src.ConfigMap, fld.Child("configMap"))...)
	case "PersistentVolumeClaim":
		if src.PersistentVolumeClaim.ClaimName == "" {
			allErrs = append(allErrs, field.Required(fld.Child("persistentVolumeClaim", "claimName"), ""))
		}
	case "DownwardAPI":
		allErrs = append(allErrs, validateDownwardAPIVolume(src.DownwardAPI, fld.Child("downwardAPI"))...)
	case "Projected":
		allErrs = append(allErrs, validateProjectedVolume(src.Projected, fld.Child("projected"))...)
	case "Ephemeral":
		allErrs = append(allErrs, validateEphemeralVolume(src.Ephemeral, fld.Child("ephemeral"))...)
	case "CSI":
		allErrs = append(allErrs, validateCSIVolume(src.CSI, fld.Child("csi"))...)
	case "NFS":
		allErrs = append(allErrs, validateNFSVolume(src.NFS, fld.Child("nfs"))...)
	}
	return allErrs
}

// validateEmptyDir checks sizeLimit (emptyDir.mode is behind an alpha gate in
// 1.37: the API server drops it, so it is not judged).
func validateEmptyDir(ed *corev1.EmptyDirVolumeSource, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if ed.SizeLimit != nil && ed.SizeLimit.Sign() < 0 {
		allErrs = append(allErrs, field.Forbidden(fld.Child("sizeLimit"), "SizeLimit field must be a valid resource quantity"))
	}
	return allErrs
}

var supportedHostPathTypes = sets.New(corev1.HostPathUnset, corev1.HostPathDirectoryOrCreate, corev1.HostPathDirectory,
	corev1.HostPathFileOrCreate, corev1.HostPathFile, corev1.HostPathSocket, corev1.HostPathCharDev, corev1.HostPathBlockDev)

func validateHostPath(hp *corev1.HostPathVolumeSource, fld *field.Path) field.ErrorList {
	if hp.Path == "" {
		return field.ErrorList{field.Required(fld.Child("path"), "")}
	}
	allErrs := validatePathNoBacksteps(hp.Path, fld.Child("path"))
	if hp.Type != nil && !supportedHostPathTypes.Has(*hp.Type) {
		allErrs = append(allErrs, field.NotSupported(fld.Child("type"), hp.Type, sets.List(supportedHostPathTypes)))
	}
	return allErrs
}

func validateSecretVolume(s *corev1.SecretVolumeSource, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if s.SecretName == "" {
		allErrs = append(allErrs, field.Required(fld.Child("secretName"), ""))
	}
	allErrs = append(allErrs, validateFileMode(s.DefaultMode, fld.Child("defaultMode"))...)
	for i := range s.Items {
		allErrs = append(allErrs, validateKeyToPath(&s.Items[i], fld.Child("items").Index(i))...)
	}
	return allErrs
}

func validateConfigMapVolume(c *corev1.ConfigMapVolumeSource, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if c.Name == "" {
		allErrs = append(allErrs, field.Required(fld.Child("name"), ""))
	}
	allErrs = append(allErrs, validateFileMode(c.DefaultMode, fld.Child("defaultMode"))...)
	for i := range c.Items {
		allErrs = append(allErrs, validateKeyToPath(&c.Items[i], fld.Child("items").Index(i))...)
	}
	return allErrs
}

func validateFileMode(mode *int32, fld *field.Path) field.ErrorList {
	if mode != nil && (*mode > 0o777 || *mode < 0) {
		return field.ErrorList{field.Invalid(fld, *mode, fileModeErrorMsg)}
	}
	return nil
}

func validateKeyToPath(kp *corev1.KeyToPath, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if kp.Key == "" {
		allErrs = append(allErrs, field.Required(fld.Child("key"), ""))
	}
	if kp.Path == "" {
		allErrs = append(allErrs, field.Required(fld.Child("path"), ""))
	}
	allErrs = append(allErrs, validateLocalNonReservedPath(kp.Path, fld.Child("path"))...)
	return append(allErrs, validateFileMode(kp.Mode, fld.Child("mode"))...)
}

func validateDownwardAPIVolume(d *corev1.DownwardAPIVolumeSource, fld *field.Path) field.ErrorList {
	allErrs := validateFileMode(d.DefaultMode, fld.Child("defaultMode"))
	for i := range d.Items {
		// As upstream, item errors use the volume source's path, not the item's.
		allErrs = append(allErrs, validateDownwardAPIFile(&d.Items[i], fld)...)
	}
	return allErrs
}

func validateDownwardAPIFile(f *corev1.DownwardAPIVolumeFile, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if f.Path == "" {
		allErrs = append(allErrs, field.Required(fld.Child("path"), ""))
	}
	allErrs = append(allErrs, validateLocalNonReservedPath(f.Path, fld.Child("path"))...)
	switch {
	case f.FieldRef != nil:
		allErrs = append(allErrs, validateObjectFieldSelector(f.FieldRef, validVolumeFieldPaths, fld.Child("fieldRef"))...)
		if f.ResourceFieldRef != nil {
			allErrs = append(allErrs, field.Invalid(fld, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"))
		}
	case f.ResourceFieldRef != nil:
		allErrs = append(allErrs, validateResourceFieldSelector(f.ResourceFieldRef, true, fld.Child("resourceFieldRef"))...)
	default:
		allErrs = append(allErrs, field.Required(fld, "one of fieldRef and resourceFieldRef is required"))
	}
	return append(allErrs, validateFileMode(f.Mode, fld.Child("mode"))...)
}

// validateProjectedVolume mirrors validateProjectedVolumeSource for secret,
// configMap, downwardAPI and serviceAccountToken sources.
func validateProjectedVolume(p *corev1.ProjectedVolumeSource, fld *field.Path) field.ErrorList {
	allErrs := validateFileMode(p.DefaultMode, fld.Child("defaultMode"))
	paths := sets.New[string]()
	dup := func(pth, value string) field.ErrorList {
		if pth == "" {
			return nil
		}
		if paths.Has(pth) {
			return field.ErrorList{field.Invalid(fld, value, "conflicting duplicate paths")}
		}
		paths.Insert(pth)
		return nil
	}
	for i, src := range p.Sources {
		sp := fld.Child("sources").Index(i)
		n := 0
		if s := src.Secret; s != nil {
			n++
			allErrs = append(allErrs, validateProjectedItems(s.Name, s.Items, sp.Child("secret"), dup)...)
		}
		if c := src.ConfigMap; c != nil {
			n++
			allErrs = append(allErrs, validateProjectedItems(c.Name, c.Items, sp.Child("configMap"), dup)...)
		}
		if d := src.DownwardAPI; d != nil {
			n++
			for j := range d.Items {
				allErrs = append(allErrs, validateDownwardAPIFile(&d.Items[j], sp.Child("downwardAPI"))...)
				allErrs = append(allErrs, dup(d.Items[j].Path, d.Items[j].Path)...)
			}
		}
		if t := src.ServiceAccountToken; t != nil {
			n++
			allErrs = append(allErrs, validateTokenProjection(t, sp.Child("serviceAccountToken"), fld)...)
		}
		if src.ClusterTrustBundle != nil || src.PodCertificate != nil {
			n++
		}
		if n > 1 {
			allErrs = append(allErrs, field.Forbidden(sp, "may not specify more than 1 volume type per source"))
		}
	}
	return allErrs
}

func validateProjectedItems(name string, items []corev1.KeyToPath, fld *field.Path, dup func(string, string) field.ErrorList) field.ErrorList {
	var allErrs field.ErrorList
	if name == "" {
		allErrs = append(allErrs, field.Required(fld.Child("name"), ""))
	}
	for i := range items {
		allErrs = append(allErrs, validateKeyToPath(&items[i], fld.Child("items").Index(i))...)
		allErrs = append(allErrs, dup(items[i].Path, name)...)
	}
	return allErrs
}

func validateTokenProjection(t *corev1.ServiceAccountTokenProjection, fld, projected *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if exp := t.ExpirationSeconds; exp == nil {
		allErrs = append(allErrs, field.Required(fld.Child("expirationSeconds"), ""))
	} else {
		if *exp < 10*60 {
			allErrs = append(allErrs, field.Invalid(fld.Child("expirationSeconds"), *exp, "may not specify a duration less than 10 minutes"))
		}
		if *exp > 1<<32 {
			allErrs = append(allErrs, field.Invalid(fld.Child("expirationSeconds"), *exp, "may not specify a duration larger than 2^32 seconds"))
		}
	}
	if t.Path == "" {
		allErrs = append(allErrs, field.Required(projected.Child("path"), ""))
	} else {
		allErrs = append(allErrs, validateLocalNonReservedPath(t.Path, projected.Child("path"))...)
	}
	return allErrs
}

// validateVolumeMounts mirrors ValidateVolumeMounts: each mount names a valid
// volume of the pod, has a mountPath, and mountPaths are unique.
func validateVolumeMounts(ctr *corev1.Container, vols map[string]corev1.VolumeSource, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	mountPaths := sets.New[string]()
	for i, m := range ctr.VolumeMounts {
		idx := fld.Index(i)
		if m.Name == "" {
			allErrs = append(allErrs, field.Required(idx.Child("name"), ""))
		}
		if _, ok := vols[m.Name]; !ok {
			allErrs = append(allErrs, field.NotFound(idx.Child("name"), m.Name))
		}
		if m.MountPath == "" {
			allErrs = append(allErrs, field.Required(idx.Child("mountPath"), ""))
		}
		if mountPaths.Has(m.MountPath) {
			allErrs = append(allErrs, field.Invalid(idx.Child("mountPath"), m.MountPath, "must be unique"))
		}
		mountPaths.Insert(m.MountPath)
		// As upstream, subPath errors use the list's path, not the mount's.
		if m.SubPath != "" {
			allErrs = append(allErrs, validateLocalDescendingPath(m.SubPath, fld.Child("subPath"))...)
		}
		if m.SubPathExpr != "" {
			if m.SubPath != "" {
				allErrs = append(allErrs, field.Invalid(idx.Child("subPathExpr"), m.SubPathExpr, "subPathExpr and subPath are mutually exclusive"))
			}
			allErrs = append(allErrs, validateLocalDescendingPath(m.SubPathExpr, fld.Child("subPathExpr"))...)
		}
		allErrs = append(allErrs, validateMountPropagation(ctr, m, fld.Child("mountPropagation"))...)
		allErrs = append(allErrs, validateRecursiveReadOnly(m, fld.Child("recursiveReadOnly"))...)
	}
	return allErrs
}

var (
	supportedMountPropagations = sets.New(corev1.MountPropagationBidirectional, corev1.MountPropagationHostToContainer, corev1.MountPropagationNone)
	supportedRecursiveReadOnly = sets.New(corev1.RecursiveReadOnlyDisabled, corev1.RecursiveReadOnlyIfPossible, corev1.RecursiveReadOnlyEnabled)
)

// validateMountPropagation mirrors validateMountPropagation (as upstream, the
// error path is the list's, not the mount's).
func validateMountPropagation(ctr *corev1.Container, m corev1.VolumeMount, fld *field.Path) field.ErrorList {
	mp := m.MountPropagation
	if mp == nil {
		return nil
	}
	var allErrs field.ErrorList
	if !supportedMountPropagations.Has(*mp) {
		allErrs = append(allErrs, field.NotSupported(fld, *mp, sets.List(supportedMountPropagations)))
	}
	sc := ctr.SecurityContext
	privileged := sc != nil && sc.Privileged != nil && *sc.Privileged
	if *mp == corev1.MountPropagationBidirectional && !privileged {
		allErrs = append(allErrs, field.Forbidden(fld, "Bidirectional mount propagation is available only to privileged containers"))
	}
	return allErrs
}

// validateRecursiveReadOnly mirrors validateMountRecursiveReadOnly.
func validateRecursiveReadOnly(m corev1.VolumeMount, fld *field.Path) field.ErrorList {
	if m.RecursiveReadOnly == nil {
		return nil
	}
	var allErrs field.ErrorList
	switch *m.RecursiveReadOnly {
	case corev1.RecursiveReadOnlyDisabled:
	case corev1.RecursiveReadOnlyEnabled, corev1.RecursiveReadOnlyIfPossible:
		if !m.ReadOnly {
			allErrs = append(allErrs, field.Forbidden(fld, "may only be specified when readOnly is true"))
		}
		if m.MountPropagation != nil && *m.MountPropagation != corev1.MountPropagationNone {
			allErrs = append(allErrs, field.Forbidden(fld, "may only be specified when mountPropagation is None or not specified"))
		}
	default:
		allErrs = append(allErrs, field.NotSupported(fld, *m.RecursiveReadOnly, sets.List(supportedRecursiveReadOnly)))
	}
	return allErrs
}

func validateLocalDescendingPath(p string, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if path.IsAbs(p) {
		allErrs = append(allErrs, field.Invalid(fld, p, "must be a relative path"))
	}
	return append(allErrs, validatePathNoBacksteps(p, fld)...)
}

func validatePathNoBacksteps(p string, fld *field.Path) field.ErrorList {
	for _, item := range strings.Split(filepath.ToSlash(p), "/") {
		if item == ".." {
			return field.ErrorList{field.Invalid(fld, p, "must not contain '..'")}
		}
	}
	return nil
}

func validateLocalNonReservedPath(p string, fld *field.Path) field.ErrorList {
	allErrs := validateLocalDescendingPath(p, fld)
	if strings.HasPrefix(p, "..") && !strings.HasPrefix(p, "../") {
		allErrs = append(allErrs, field.Invalid(fld, p, "must not start with '..'"))
	}
	return allErrs
}
