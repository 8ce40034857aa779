// Package schedule is jobsync's cron maths, with the exact semantics of the
// Kubernetes CronJob controller: schedules are parsed by robfig/cron v3
// ParseStandard (five fields or a descriptor), interpreted in an IANA time zone
// (time/tzdata is embedded so the host's zoneinfo does not matter).
//
// Entry points: Parse for a schedule string, ValidateTimeZone and LoadLocation
// for a CronJob's timeZone, and the helpers built on them (Next, MostRecentUnmet,
// NeverFires, MinInterval, DSTIssues).
package schedule
