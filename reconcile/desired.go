package reconcile

import (
	"fmt"

	"github.com/jobsync/jobsync/manifests"
)

// DesiredFrom turns the valid, decoded objects of a revision into desired
// objects labelled for the sync: app.kubernetes.io/managed-by: jobsync and
// jobsync.io/sync: <sync>, with the revision recorded in an annotation. Objects
// in namespace "" of a namespaced kind get defaultNamespace. Results without an
// object (decode failures) are skipped: the gate rejects such revisions first.
func DesiredFrom(results []manifests.Result, sync, revision, defaultNamespace string) ([]Desired, error) {
	return desiredFrom(results, sync, revision, defaultNamespace, false)
}

// TakeDesired is DesiredFrom for a caller done with the results: they give
// their decoded objects to the desired ones instead of a copy, and drop
// their typed objects. With 10,000 objects that is a third less memory
// while a reconcile runs.
func TakeDesired(results []manifests.Result, sync, revision, defaultNamespace string) ([]Desired, error) {
	return desiredFrom(results, sync, revision, defaultNamespace, true)
}

func desiredFrom(results []manifests.Result, sync, revision, defaultNamespace string, take bool) ([]Desired, error) {
	out := make([]Desired, 0, len(results))
	for i := range results {
		r := &results[i]
		if r.Unstructured == nil {
			continue
		}
		u := r.Unstructured
		if take {
			r.Object, r.Unstructured = nil, nil
		} else {
			u = u.DeepCopy()
		}
		if u.GetNamespace() == "" && !clusterScoped(u.GetKind()) && defaultNamespace != "" {
			u.SetNamespace(defaultNamespace)
		}
		labels := u.GetLabels()
		if labels == nil {
			labels = map[string]string{}
		}
		labels[LabelManagedBy] = ManagedByValue
		labels[LabelSync] = sync
		u.SetLabels(labels)
		ann := u.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		ann[AnnotationRevision] = revision
		u.SetAnnotations(ann)
		h, err := SpecHash(u)
		if err != nil {
			return nil, err
		}
		out = append(out, Desired{Ref: RefOf(u), Object: u, Hash: h, Origin: fmt.Sprintf("%s:%d", r.File, r.Line)})
	}
	return out, nil
}

// clusterScoped reports whether a kind is known to be cluster-scoped. Targets
// with a RESTMapper know better; this covers what a batch repo carries.
func clusterScoped(kind string) bool {
	switch kind {
	case "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
		"PriorityClass", "PersistentVolume", "StorageClass":
		return true
	}
	return false
}
