package web

import (
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"

	"github.com/jobsync/jobsync/fleet"
)

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	"ago":         ago,
	"until":       until,
	"stamp":       stamp,
	"dur":         human,
	"healthClass": healthClass,
	"resultClass": resultClass,
	"cronPath":    cronPath,
	"short":       shortRev,
}

// stampLayout is how the pages print a time: UTC, to the second.
const stampLayout = "2006-01-02 15:04:05Z"

// stamp prints t in UTC, or "—" for the zero time.
func stamp(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format(stampLayout)
}

// ago prints how long before now t was ("3m ago"), or "never".
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	if d := now.Sub(t); d >= 0 {
		return human(d) + " ago"
	}
	return "in " + human(t.Sub(now))
}

// until prints how long after now t is ("in 3m"), or "—".
func until(now, t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	if d := t.Sub(now); d >= 0 {
		return "in " + human(d)
	}
	return human(now.Sub(t)) + " ago"
}

// human prints a duration with its two largest units: "2d3h", "4m10s",
// "850ms".
func human(d time.Duration) string {
	switch {
	case d < 0:
		return "-" + human(-d)
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}

// healthClass is the CSS class of a health badge.
func healthClass(s fleet.State) string {
	switch s {
	case fleet.StateHealthy, fleet.StateLate, fleet.StateMissed, fleet.StateFailing, fleet.StateSuspended:
		return "h-" + strings.ToLower(string(s))
	}
	return "h-unknown"
}

// resultClass is the CSS class of a run result.
func resultClass(r fleet.Result) string {
	switch r {
	case fleet.ResultSucceeded:
		return "r-ok"
	case fleet.ResultFailed:
		return "r-fail"
	case fleet.ResultRunning:
		return "r-run"
	}
	return "r-none"
}

// healthRank orders health states by how much they need a person.
func healthRank(s fleet.State) int {
	switch s {
	case fleet.StateFailing:
		return 0
	case fleet.StateMissed:
		return 1
	case fleet.StateLate:
		return 2
	case fleet.StateSuspended:
		return 3
	case fleet.StateHealthy:
		return 4
	}
	return 5
}

// cronPath is the address of a CronJob's page.
func cronPath(namespace, name string) string {
	return "/cronjobs/" + url.PathEscape(namespace) + "/" + url.PathEscape(name)
}

// shortRev shortens a commit hash to 12 characters; other revisions (a tag,
// "main@sha1:...") are left whole.
func shortRev(rev string) string {
	if len(rev) == 40 && strings.Trim(rev, "0123456789abcdef") == "" {
		return rev[:12]
	}
	return rev
}

// zoneOf prints a CronJob's zone; an unset timeZone is read as UTC, as
// jobsync schedule does.
func zoneOf(c fleet.CronJob) string {
	if c.TimeZone == "" {
		return "UTC (unset)"
	}
	return c.TimeZone
}
