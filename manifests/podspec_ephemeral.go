package manifests

import (
	"path"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

var (
	supportedAccessModes = sets.New(corev1.ReadWriteOnce, corev1.ReadOnlyMany, corev1.ReadWriteMany, corev1.ReadWriteOncePod)
	supportedVolumeModes = sets.New(corev1.PersistentVolumeBlock, corev1.PersistentVolumeFilesystem)
)

// validateEphemeralVolume mirrors validateEphemeralVolumeSource: a claim
// template whose metadata has only labels and annotations, and a claim spec
// with access modes and a positive storage request (data sources are not
// judged).
func validateEphemeralVolume(e *corev1.EphemeralVolumeSource, fld *field.Path) field.ErrorList {
	if e.VolumeClaimTemplate == nil {
		return field.ErrorList{field.Required(fld.Child("volumeClaimTemplate"), "")}
	}
	tp := fld.Child("volumeClaimTemplate")
	meta := &e.VolumeClaimTemplate.ObjectMeta
	allErrs := apimachineryvalidation.ValidateAnnotations(meta.Annotations, tp.Child("metadata", "annotations"))
	allErrs = append(allErrs, metav1validation.ValidateLabels(meta.Labels, tp.Child("metadata", "labels"))...)
	allErrs = append(allErrs, forbidMetaFields(*meta, tp.Child("metadata"))...)
	return append(allErrs, validateClaimSpec(&e.VolumeClaimTemplate.Spec, tp.Child("spec"))...)
}

// forbidMetaFields reports every ObjectMeta field but labels and annotations
// that is set ("cannot be set"), as the API server's allow-list does.
func forbidMetaFields(meta metav1.ObjectMeta, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	t, v := reflect.TypeOf(meta), reflect.ValueOf(meta)
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Name == "Labels" || f.Name == "Annotations" || v.Field(i).IsZero() {
			continue
		}
		r, n := utf8.DecodeRuneInString(f.Name)
		allErrs = append(allErrs, field.Forbidden(fld.Child(string(unicode.ToLower(r))+f.Name[n:]), "cannot be set"))
	}
	return allErrs
}

func validateClaimSpec(spec *corev1.PersistentVolumeClaimSpec, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if len(spec.AccessModes) == 0 {
		allErrs = append(allErrs, field.Required(fld.Child("accessModes"), "at least 1 access mode is required"))
	}
	if spec.Selector != nil {
		allErrs = append(allErrs, metav1validation.ValidateLabelSelector(spec.Selector, metav1validation.LabelSelectorValidationOptions{}, fld.Child("selector"))...)
	}
	rwop, other := false, false
	for _, m := range spec.AccessModes {
		if !supportedAccessModes.Has(m) {
			allErrs = append(allErrs, field.NotSupported(fld.Child("accessModes"), m, sets.List(supportedAccessModes)))
		}
		if m == corev1.ReadWriteOncePod {
			rwop = true
		} else if supportedAccessModes.Has(m) {
			other = true
		}
	}
	if rwop && other {
		allErrs = append(allErrs, field.Forbidden(fld.Child("accessModes"), "may not use ReadWriteOncePod with other access modes"))
	}
	sp := fld.Child("resources").Key(string(corev1.ResourceStorage))
	if q, ok := spec.Resources.Requests[corev1.ResourceStorage]; !ok {
		allErrs = append(allErrs, field.Required(sp, ""))
	} else if q.Sign() <= 0 {
		allErrs = append(allErrs, field.Invalid(sp, q.String(), notPositiveMsg))
	}
	if sc := spec.StorageClassName; sc != nil && *sc != "" {
		for _, msg := range apimachineryvalidation.NameIsDNSSubdomain(*sc, false) {
			allErrs = append(allErrs, field.Invalid(fld.Child("storageClassName"), *sc, msg))
		}
	}
	if vm := spec.VolumeMode; vm != nil && !supportedVolumeModes.Has(*vm) {
		allErrs = append(allErrs, field.NotSupported(fld.Child("volumeMode"), *vm, sets.List(supportedVolumeModes)))
	}
	return allErrs
}

// validateCSIVolume mirrors validateCSIVolumeSource (as upstream, an invalid
// secret name is reported on csi.name).
func validateCSIVolume(csi *corev1.CSIVolumeSource, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	dp := fld.Child("driver")
	switch {
	case csi.Driver == "":
		return append(allErrs, field.Required(dp, ""))
	case len(csi.Driver) > 63:
		allErrs = append(allErrs, field.TooLong(dp, "", 63))
	}
	for _, msg := range validation.IsDNS1123Subdomain(strings.ToLower(csi.Driver)) {
		allErrs = append(allErrs, field.Invalid(dp, csi.Driver, msg))
	}
	if ref := csi.NodePublishSecretRef; ref != nil {
		if ref.Name == "" {
			allErrs = append(allErrs, field.Required(fld.Child("nodePublishSecretRef", "name"), ""))
		} else {
			for _, msg := range apimachineryvalidation.NameIsDNSSubdomain(ref.Name, false) {
				allErrs = append(allErrs, field.Invalid(fld.Child("name"), ref.Name, msg))
			}
		}
	}
	return allErrs
}

// validateNFSVolume mirrors validateNFSVolumeSource.
func validateNFSVolume(nfs *corev1.NFSVolumeSource, fld *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if nfs.Server == "" {
		allErrs = append(allErrs, field.Required(fld.Child("server"), ""))
	}
	if nfs.Path == "" {
		allErrs = append(allErrs, field.Required(fld.Child("path"), ""))
	}
	if !path.IsAbs(nfs.Path) {
		allErrs = append(allErrs, field.Invalid(fld.Child("path"), nfs.Path, "must be an absolute path"))
	}
	return allErrs
}
