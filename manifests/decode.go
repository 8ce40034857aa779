package manifests

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation/field"
	sigsjson "sigs.k8s.io/json"
)

// Cause types used for findings that are not produced by a field.Error.
const (
	typeInvalid      = string(field.ErrorTypeInvalid)
	typeRequired     = string(field.ErrorTypeRequired)
	typeNotSupported = string(field.ErrorTypeNotSupported)
)

// header is what decode found out about a document before the typed decode.
type header struct {
	json []byte
	obj  map[string]interface{}
}

// decode turns one input into a Result with the document's identity, its
// Unstructured form and, for batch/v1 Job and CronJob, the typed object. It
// reports every decoding problem as an error finding; it never panics.
func decode(in Input, opts Options) (Result, typed) {
	r := Result{File: in.File, Line: in.Line, lines: newLineIndex(in.Data, in.Line)}
	if in.Err != nil {
		r.addError("", typeInvalid, in.Err.Error())
		return r, typed{}
	}
	if opts.MaxDocumentBytes > 0 && len(in.Data) > opts.MaxDocumentBytes {
		r.addError("", typeInvalid, fmt.Sprintf("document is %d bytes, more than the limit of %d bytes (the API server refuses requests over 3 MiB): split it", len(in.Data), opts.MaxDocumentBytes))
		r.lines = nil
		return r, typed{}
	}
	h, ok := r.decodeHeader(in.Data)
	if !ok {
		return r, typed{}
	}
	return r, r.decodeTyped(h)
}

// typed is the object decode produced (at most one field is set).
type typed struct {
	job     *batchv1.Job
	cronJob *batchv1.CronJob
}

var yamlLine = regexp.MustCompile(`line (\d+)`)

// decodeHeader converts YAML to JSON (sigs.k8s.io/yaml: YAML 1.1, duplicate
// keys are errors), checks that the document is an object with apiVersion
// and kind, and fills the Result's identity and Unstructured form.
func (r *Result) decodeHeader(data []byte) (header, bool) {
	v, j, err := yamlToObject(data)
	if err != nil {
		msg := strings.Join(strings.Fields(err.Error()), " ")
		r.addError("", typeInvalid, "not valid YAML: "+msg)
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			if n, err := strconv.Atoi(m[1]); err == nil {
				r.Errors[len(r.Errors)-1].Line = r.Line + n - 1
			}
		}
		return header{}, false
	}
	obj, isMap := v.(map[string]interface{})
	switch {
	case v == nil:
		r.lines = nil
		r.Warnings = append(r.Warnings, Finding{Message: "no objects in file", Rule: RuleUpstream, Line: r.Line})
		return header{}, false
	case !isMap:
		r.addError("", typeInvalid, fmt.Sprintf("document is %s, not a Kubernetes object: expected a mapping with apiVersion, kind and metadata", jsonKind(j[0])))
		return header{}, false
	}
	// Copies: the parsed strings share the document's text, which the
	// Result should not keep alive once the object is dropped.
	r.APIVersion = cloneString(obj["apiVersion"])
	r.Kind = cloneString(obj["kind"])
	if md, ok := obj["metadata"].(map[string]interface{}); ok {
		r.Name = cloneString(md["name"])
		r.Namespace = cloneString(md["namespace"])
	}
	if r.APIVersion == "" {
		r.addError("apiVersion", typeRequired, "Required value: not a Kubernetes object: apiVersion must be set (for Jobs and CronJobs: batch/v1)")
	}
	if r.Kind == "" {
		r.addError("kind", typeRequired, "Required value: not a Kubernetes object: kind must be set")
	}
	if len(r.Errors) > 0 {
		return header{}, false
	}
	r.Unstructured = &unstructured.Unstructured{Object: obj}
	return header{json: j, obj: obj}, true
}

// cloneString returns a copy of v when it is a string, else "".
func cloneString(v interface{}) string {
	s, _ := v.(string)
	return strings.Clone(s)
}

// jsonKind names the JSON value that starts with b.
func jsonKind(b byte) string {
	switch b {
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	default:
		return "a number"
	}
}

// decodeTyped decodes batch/v1 Job and CronJob strictly; other kinds stay
// unstructured and unchecked.
func (r *Result) decodeTyped(h header) typed {
	group, version, _ := strings.Cut(r.APIVersion, "/")
	if group != "batch" || (r.Kind != "Job" && r.Kind != "CronJob") {
		return typed{}
	}
	r.Checked = true
	if version != "v1" {
		why := "is not served by Kubernetes"
		if r.Kind == "CronJob" && (version == "v1beta1" || version == "v2alpha1") {
			why = "is no longer served (removed in Kubernetes 1.25)"
		}
		r.addError("apiVersion", typeNotSupported, fmt.Sprintf("Unsupported value: %q: %s %s %s: use apiVersion: batch/v1", r.APIVersion, r.Kind, r.APIVersion, why))
		return typed{}
	}
	var rt typed
	var target interface{}
	if r.Kind == "Job" {
		rt.job = &batchv1.Job{}
		target = rt.job
	} else {
		rt.cronJob = &batchv1.CronJob{}
		target = rt.cronJob
	}
	strict, err := sigsjson.UnmarshalStrict(h.json, target, sigsjson.DisallowDuplicateFields, sigsjson.DisallowUnknownFields)
	if err != nil {
		r.addDecodeError(err, h.obj)
		return typed{}
	}
	for _, e := range strict {
		path := ""
		if fe, ok := e.(sigsjson.FieldError); ok { //nolint:errorlint // sigs.k8s.io/json returns these unwrapped
			path = fe.FieldPath()
		}
		r.addError(path, typeInvalid, "strict decoding error: "+e.Error())
	}
	if len(strict) > 0 {
		return typed{}
	}
	return rt
}

var typeErrorPath = regexp.MustCompile(`into Go struct field [^ .]*\.(\S+) of type (\S+)`)

// addDecodeError reports a typed-decoding failure: a wrong type (with its
// path) or a value a field's own decoder refused (malformed quantity).
func (r *Result) addDecodeError(err error, obj map[string]interface{}) {
	msg := err.Error()
	if m := typeErrorPath.FindStringSubmatch(msg); m != nil {
		if strings.Contains(msg, "cannot unmarshal bool into") && m[2] == "string" {
			msg += " (YAML 1.1 reads unquoted y, yes, on, n, no, off, true, false as booleans: quote the value)"
		}
		r.addError(m[1], typeInvalid, msg)
		return
	}
	if strings.HasPrefix(msg, "quantities must match") {
		if path, val, ok := findBadQuantity(obj, ""); ok {
			r.addError(path, typeInvalid, fmt.Sprintf("Invalid value: %q: %s", val, msg))
			return
		}
	}
	r.addError("", typeInvalid, fmt.Sprintf("%s in version %q cannot be handled as a %s: %s", r.Kind, "v1", r.Kind, msg))
}

// quantityKeys are the object keys whose values are maps of quantities (or,
// for sizeLimit, a quantity).
var quantityKeys = map[string]bool{"limits": true, "requests": true, "overhead": true}

// findBadQuantity finds the first quantity in v that does not parse, and its path.
func findBadQuantity(v interface{}, path string) (string, string, bool) {
	switch t := v.(type) {
	case map[string]interface{}:
		for _, k := range sortedKeys(t) {
			p := joinPath(path, k)
			if quantityKeys[k] {
				if q, ok := t[k].(map[string]interface{}); ok {
					for _, qk := range sortedKeys(q) {
						if s, ok := q[qk].(string); ok && !isQuantity(s) {
							return p + "[" + qk + "]", s, true
						}
					}
				}
			}
			if s, ok := t[k].(string); ok && k == "sizeLimit" && !isQuantity(s) {
				return p, s, true
			}
			if bp, bv, ok := findBadQuantity(t[k], p); ok {
				return bp, bv, true
			}
		}
	case []interface{}:
		for i, c := range t {
			if bp, bv, ok := findBadQuantity(c, path+"["+strconv.Itoa(i)+"]"); ok {
				return bp, bv, true
			}
		}
	}
	return "", "", false
}

func isQuantity(s string) bool {
	_, err := resource.ParseQuantity(s)
	return err == nil
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// addError appends an upstream error finding.
func (r *Result) addError(path, typ, msg string) {
	r.Errors = append(r.Errors, Finding{Field: path, Type: typ, Message: msg, Rule: RuleUpstream})
}

func sortedKeys(m map[string]interface{}) []string {
	return slices.Sorted(maps.Keys(m))
}
