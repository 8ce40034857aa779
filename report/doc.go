// Package report writes validation results ([]manifests.Result) in the formats
// CI systems and people read: text (the default, for terminals), json (the
// stable contract in DESIGN.md), sarif (GitHub code scanning), junit (test
// report viewers) and github (workflow-command annotations).
//
// Entry point: Write. It only formats; it never decides the exit code and
// never logs.
package report
