package main

import (
	"context"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/jobsync/jobsync/fleet"
	"github.com/jobsync/jobsync/schedule"
)

// fleetReader is the run ledger side of the agent's API, or of a stopped
// agent's state.
type fleetReader interface {
	FleetCronJobs(ctx context.Context) ([]fleet.CronJob, error)
	FleetRuns(ctx context.Context, namespace, name string, limit int) ([]fleet.Run, error)
}

// fleetIndex is rt's CronJobs with their health by "namespace/name"; empty
// when rt has no ledger (an older agent): the columns then say <unknown>.
func fleetIndex(ctx context.Context, rt runtimeReader) map[string]fleet.CronJob {
	fr, ok := rt.(fleetReader)
	if !ok {
		return nil
	}
	l, err := fr.FleetCronJobs(ctx)
	if err != nil {
		return nil
	}
	out := make(map[string]fleet.CronJob, len(l))
	for _, c := range l {
		out[c.Namespace+"/"+c.Name] = c
	}
	return out
}

// fleetCols are get cronjobs' LAST-RESULT, LAST-SUCCESS, NEXT (in the
// CronJob's zone) and HEALTH.
func fleetCols(health map[string]fleet.CronJob, ns, name string, now time.Time) string {
	c, ok := health[ns+"/"+name]
	if !ok {
		return "<unknown>\t<unknown>\t<unknown>\t<unknown>"
	}
	last := string(c.LastResult)
	if last == "" {
		last = "<none>"
	}
	success := "<none>"
	if !c.LastSuccess.IsZero() {
		success = duration.HumanDuration(now.Sub(c.LastSuccess))
	}
	next := "<none>"
	if !c.Next.IsZero() {
		next = c.Next.In(cronZone(c.TimeZone)).Format("2006-01-02 15:04 MST")
	}
	return strings.Join([]string{last, success, next, healthCol(c.Health)}, "\t")
}

// healthCol is the state, with why for Missed, Late, Failing and Suspended:
// Missed(AgentDown), Suspended(hand).
func healthCol(h fleet.Health) string {
	why := h.Reason
	if h.State == fleet.StateSuspended {
		why = h.SuspendedBy
	}
	if h.State == fleet.StateFailing {
		why, _, _ = strings.Cut(why, ":") // the condition; the exit code is in runs and why
	}
	if why == "" {
		return string(h.State)
	}
	return string(h.State) + "(" + why + ")"
}

// cronZone is the zone a CronJob's times are shown in: its spec.timeZone
// (times that came over the socket as JSON keep only their offset), else UTC.
func cronZone(tz string) *time.Location {
	if tz == "" {
		return time.UTC
	}
	if loc, err := schedule.LoadLocation(&tz); err == nil {
		return loc
	}
	return time.UTC
}
