// Package policy adds jobsync's batch best-practice findings on top of the
// upstream validation of package manifests: each rule has an id, a default
// severity, a rationale and a fix hint, and is configured by a .jobsync.yaml.
//
// Rules lists the catalogue (stable kebab-case ids, default severities,
// rationale and fix hints) and Explain describes one rule. LoadConfig reads a
// .jobsync.yaml (severities by rule id, minScheduleInterval, per-path
// overrides); the jobsync.io/ignore annotation suppresses rules per object.
// docs/policies.md documents all of it.
//
// Entry point: Apply, which adds the findings to []manifests.Result in place.
package policy
