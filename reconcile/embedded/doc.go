// Package embedded is the embedded reconcile target: Job and CronJob
// controllers with the upstream batch/v1 semantics (syncCronJob and
// syncJob upstream; docs/batch-semantics.md), running each pod's containers as local processes through a
// podexec.Runner, with every object, status and event kept in a bbolt store
// in the state directory so that nothing is lost across restarts.
//
// The entry point is New, which returns an Engine: Run drives the
// controllers, Target is its reconcile.Target, and ListCronJobs, ListJobs,
// ListPods, JobPods, Trigger, Suspend, Events and LogPaths serve the CLI.
// With Options.ReadOnly the state of a stopped agent can be read (ErrLocked
// while an agent holds the file).
package embedded
