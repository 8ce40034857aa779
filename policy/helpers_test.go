package policy

import (
	"os"
	"path/filepath"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/jobsync/jobsync/manifests"
)

// loadResult builds a checked Result from a fixture the way manifests.Check
// does: the raw document as Unstructured, and the typed object with the API
// defaults that matter to the policies (so unset and defaulted differ).
func loadResult(t testing.TB, fixture, file string) manifests.Result {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", fixture))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		t.Fatalf("%s: %v", fixture, err)
	}
	u := &unstructured.Unstructured{Object: raw}
	var obj runtime.Object
	switch u.GetKind() {
	case "Job":
		j := &batchv1.Job{}
		if err := yaml.UnmarshalStrict(data, j); err != nil {
			t.Fatalf("%s: %v", fixture, err)
		}
		obj = j
	case "CronJob":
		cj := &batchv1.CronJob{}
		if err := yaml.UnmarshalStrict(data, cj); err != nil {
			t.Fatalf("%s: %v", fixture, err)
		}
		if cj.Spec.ConcurrencyPolicy == "" {
			cj.Spec.ConcurrencyPolicy = batchv1.AllowConcurrent
		}
		if cj.Spec.SuccessfulJobsHistoryLimit == nil {
			cj.Spec.SuccessfulJobsHistoryLimit = ptr.To[int32](3)
		}
		if cj.Spec.FailedJobsHistoryLimit == nil {
			cj.Spec.FailedJobsHistoryLimit = ptr.To[int32](1)
		}
		obj = cj
	default:
		t.Fatalf("%s: kind %q", fixture, u.GetKind())
	}
	return manifests.Result{
		File: file, Line: 1, APIVersion: u.GetAPIVersion(), Kind: u.GetKind(),
		Namespace: u.GetNamespace(), Name: u.GetName(), Checked: true,
		Object: obj, Unstructured: u,
	}
}

// annotate sets the ignore annotation on both views of the object.
func annotate(t testing.TB, r *manifests.Result, value string) {
	t.Helper()
	ann := r.Unstructured.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	ann[IgnoreAnnotation] = value
	r.Unstructured.SetAnnotations(ann)
	switch o := r.Object.(type) {
	case *batchv1.Job:
		o.Annotations = ann
	case *batchv1.CronJob:
		o.Annotations = ann
	}
}

// byRule returns the findings of rule in fs.
func byRule(fs []manifests.Finding, rule string) []manifests.Finding {
	var out []manifests.Finding
	for _, f := range fs {
		if f.Rule == rule {
			out = append(out, f)
		}
	}
	return out
}
