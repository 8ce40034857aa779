// Package ledger is the run ledger of a target's CronJobs and their health:
// every run (scheduled, catch-up, manual) with its scheduled time, start,
// end, result and reason, kept in its own bbolt file in the state directory
// (LedgerFile) after history limits or a TTL delete the Job, for
// Options.Retention.
//
// Entry points: Open returns a Ledger; RunStarted and RunFinished record
// runs (both idempotent, so a watch that replays a Job is harmless); Up
// records that the agent is alive (the gaps between are "agent down");
// Evaluate is the pure health computation of one CronJob (SpecOf builds its
// input from a batch/v1 CronJob); NewView joins current CronJobs, the ledger
// and their health into a fleet.View.
//
// Times are kept to the millisecond. A library: it never logs.
package ledger
