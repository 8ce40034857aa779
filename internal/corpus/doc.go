// Package corpus writes deterministic synthetic corpora of Job and CronJob
// manifests, mixed valid and invalid, for benchmarks and load tests.
//
// The one entry point is Generate.
package corpus
