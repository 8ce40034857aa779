// Package cluster is the client-go target of jobsync: it carries out a
// reconcile.ChangeSet against a Kubernetes API server with server-side apply
// (field manager "jobsync"), stage by stage, records what it applied in an
// inventory ConfigMap, prunes only what left Git, recreates Jobs whose
// immutable template changed (per jobsync.io/on-change), never re-runs a Job
// that already ran for the same spec, puts hand edits back (drift), and
// reports the health of Jobs and CronJobs.
//
// The entry point is New, which returns a *Target implementing
// reconcile.Target; Health, Wait and Diff are the extras the CLI uses.
package cluster
