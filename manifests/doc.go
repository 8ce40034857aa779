// Package manifests is jobsync's object model: it decodes Kubernetes
// documents strictly, applies the API server's defaults and runs the API
// server's own validation rules for batch/v1 Job and CronJob, so that a
// manifest gets the verdict kube-apiserver would give it (field paths and
// cause types included).
//
// The one obvious entry point is Check, which turns []Input into []Result.
//
// Decoding follows kubectl with fieldValidation=Strict: YAML 1.1 as
// sigs.k8s.io/yaml reads it (unquoted y/yes/on/no are booleans), duplicate
// keys, unknown fields, wrong types and malformed quantities are errors.
// batch/v1beta1 CronJob is refused with a pointer to batch/v1. Other kinds
// are decoded (Result.Unstructured) but not checked.
//
// Findings with rule "upstream" mirror the API server. One more warning is
// jobsync's own: rule "schedule-never-fires" (RuleScheduleNeverFires) for a
// CronJob schedule that parses but matches no time within five years (for
// example "0 0 31 2 *"); the API server accepts it and the controller reports
// InvalidSchedule at run time.
//
// Every finding carries the line of its field (Finding.Line, Result.LineOf):
// line indexes are built on first use, from the document's YAML.
//
// Speed: documents in the plain block-YAML subset nearly every manifest uses
// are read by a small reader (fastyaml.go) that gives up on anything else
// (anchors, tags, block scalars, escapes, non-ASCII, ...), leaving it to
// goyaml.v2 as sigs.k8s.io/yaml uses it; FuzzFastYAML checks that the two
// always agree. Options.SkipUnstructured drops Result.Unstructured for
// callers that only report.
//
// SetJobDefaults, SetCronJobDefaults, ValidateJob and ValidateCronJob are
// exported for reuse on objects built in code.
package manifests
