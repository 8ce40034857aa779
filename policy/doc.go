// Package policy adds jobsync's batch best-practice findings on top of the
// upstream validation of package manifests: each rule has an id, a default
// severity, a rationale and a fix hint, and is configured by a .jobsync.yaml.
//
// Entry point: Apply.
package policy
