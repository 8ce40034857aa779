// Package web is the agent's read-only web view of its fleet: server-rendered
// HTML and SVG from html/template files embedded in the binary, with no
// JavaScript. New returns the handler; the agent mounts it at "/" of its
// --listen server.
//
// Pages (every one GET-only; nothing here changes state):
//   - /                     the fleet: one row per CronJob, filtered and
//     sorted by query parameters (ns, health, label, q, sort, desc)
//   - /cronjobs/{ns}/{name} one CronJob: run timeline, durations, failures,
//     the manifest's file:line
//   - /cronjobs/{ns}/{name}/runs/{job}/logs  the logs of one run
//   - /schedule             a week × 24 h heat map of runs starting (?tz=,
//     ?week=, ?cell=), also as /schedule.svg and /schedule.png
//   - /revision             the last attempted and applied revisions and the
//     findings with file:line
//
// It reads the fleet through fleet.View only, the revision through
// Options.Revision and the logs through Options.Logs.
package web
