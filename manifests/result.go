package manifests

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// RuleUpstream is the rule id of every finding that mirrors the API server.
const RuleUpstream = "upstream"

// Input is one document to check: its bytes and where they came from.
type Input struct {
	// File is the path shown to users (relative to the validated root, slash-separated).
	File string
	// Line is the 1-based line of the document's first line in File.
	Line int
	// Data is the document (YAML or JSON), one object.
	Data []byte
	// Err, when set, is a problem that stopped the document from being read or
	// rendered at all (binary file, kustomize error); it becomes an invalid Result.
	Err error
}

// Finding is one problem with an object. Errors carry Type; warnings do not.
type Finding struct {
	// Field is the API server's field path, e.g. spec.jobTemplate.spec.schedule.
	Field string `json:"field"`
	// Type is the API server's cause type (FieldValueInvalid, ...); empty for warnings.
	Type string `json:"type,omitempty"`
	// Message says what is wrong, in the API server's words for upstream rules.
	Message string `json:"message"`
	// Rule is RuleUpstream or a policy id.
	Rule string `json:"rule"`
	// Line is the line of Field in the Result's File when known, else the object's line.
	Line int `json:"-"`
	// Hint says how to fix it (policies).
	Hint string `json:"-"`
}

// Result is the verdict on one document.
type Result struct {
	File       string
	Line       int
	APIVersion string
	Kind       string
	Namespace  string
	Name       string

	// Checked is false for kinds jobsync does not validate (listed as not checked).
	Checked  bool
	Errors   []Finding
	Warnings []Finding

	// Object is the decoded and defaulted *batchv1.Job or *batchv1.CronJob, nil
	// when the document did not decode or is another kind.
	Object runtime.Object
	// Unstructured is the document as decoded, for any kind that decoded as an
	// object (used by targets to apply it); nil when it did not decode.
	Unstructured *unstructured.Unstructured

	// lines maps API field paths to lines in File (see LineOf); built on
	// first use from the document's YAML.
	lines *lineIndex
	// upstream counts the leading Errors that Check itself found (the
	// duplicate error is inserted after them, before any policy finding).
	upstream int
	// nameLine is the line of metadata.name once the line index is dropped
	// (Options.DropLines); 0 while the index is kept.
	nameLine int
}

// Valid reports whether the document has no errors.
func (r *Result) Valid() bool { return len(r.Errors) == 0 }

// LineOf returns the line of the field path in File (the nearest ancestor that
// has a known line), or the object's line.
func (r *Result) LineOf(path string) int {
	for p := path; p != ""; p = parentPath(p) {
		if l, ok := r.lines.lookup(p); ok {
			return l
		}
	}
	return r.Line
}

// parentPath drops the last element of a field path ("a.b[0].c" → "a.b[0]" → "a.b").
func parentPath(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		switch p[i] {
		case '.':
			return p[:i]
		case '[':
			return p[:i]
		}
	}
	return ""
}
