// Package agent runs a reconcile loop as a long-lived process and serves what
// it knows: health and readiness, Prometheus metrics, a JSON status, and — for
// the embedded target — a small control API (CronJobs, Jobs, pods, logs,
// trigger, suspend) that the CLI reaches over a unix socket in the state
// directory. The TCP listener serves the public part only (no control API
// unless a bearer token is configured), with timeouts and a connection cap:
// see docs/security.md.
//
// Entry point: New, then Agent.Run. The CLI side is Client.
package agent
