// Package schedule is jobsync's cron maths, with the exact semantics of the
// Kubernetes CronJob controller: schedules are parsed by robfig/cron v3
// ParseStandard (five fields or a descriptor), interpreted in an IANA time zone
// (time/tzdata is embedded so the host's zoneinfo does not matter).
//
// Entry points: Parse for a schedule string, ValidateTimeZone and LoadLocation
// for a CronJob's timeZone, and the helpers built on them: Next and NextN (fire
// times in a zone), MostRecentUnmet (what the controller starts now),
// NeverFires, MinInterval and IntervalBelow (how close two runs get), and
// DSTIssues (runs that a daylight-saving transition skips or doubles).
//
// Nothing here reads a clock: every function takes the times it needs.
package schedule
