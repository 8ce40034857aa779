// Package fleet is the read model of a target's CronJobs as people look at
// them: each CronJob's health, its last results and next run, and its run
// ledger. It holds only data types and the View interface; the ledger
// (package ledger) produces them and the CLI, the agent's metrics and the
// web view (package web) read them. It imports no project package.
package fleet
