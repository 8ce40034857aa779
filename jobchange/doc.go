// Package jobchange decides what happens to a Job whose spec changed in Git
// while an older one exists, for both targets (cluster and embedded), and
// says whether a Job has finished.
//
// A Job's pod template is immutable, so a changed Job is replaced: deleted
// and created again. Its jobsync.io/on-change annotation chooses when:
// "recreate-when-finished" (the default) waits while the old Job may still
// run pods, "recreate" replaces it at once, "ignore" keeps the old Job. A
// Job has finished when it has a Complete or Failed condition that is True
// (as the Job controller's IsJobFinished); a suspended Job runs no pods.
// Any other annotation value is an error: jobsync validate reports it
// (policy rule on-change-annotation-invalid) before a target meets it.
//
// Entry points: Decide (pure, table-tested), ParseMode, StateOf, and
// FinishedCondition.
package jobchange
