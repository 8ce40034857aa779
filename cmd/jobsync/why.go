package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/jobsync/jobsync/fleet"
)

func newWhyCmd(s streams) *cobra.Command {
	var f getFlags
	c := &cobra.Command{
		Use:   "why CRONJOB",
		Short: "Explain a CronJob's last missing or failed run in one paragraph",
		Long: `why answers "why didn't it run?" and "why did it fail?": from the CronJob's
health (Late, Missed and its reason, Failing, Suspended and by whom) and its
run ledger, one paragraph about the newest due time that got no run, or the
newest failed run, and what happened since. See docs/health.md.`,
		Example: `  jobsync why pg-backup --state-dir .run/state`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cj, runs, err := cronJobRuns(cmd.Context(), f, args[0], 200)
			if err != nil {
				return err
			}
			return printWhy(s.out, cj, runs, time.Now())
		},
	}
	addStateFlags(c, &f)
	return c
}

func printWhy(w io.Writer, c fleet.CronJob, runs []fleet.Run, now time.Time) error {
	_, err := fmt.Fprintln(w, explain(c, runs, now))
	return err
}

// missWhy explains each MissReason.
var missWhy = map[fleet.MissReason]string{
	fleet.MissAgentDown: "the agent was not running at that time, so no controller could start it",
	fleet.MissDeadline: "it was not started before its startingDeadlineSeconds passed or the next due time came " +
		"(the controller starts only the most recent missed time)",
	fleet.MissForbid:    "concurrencyPolicy is Forbid and the previous run was still active",
	fleet.MissSuspended: "the CronJob was suspended at that time",
	fleet.MissTooMany: "more than 100 start times were missed, and the controller then starts only the latest " +
		"(set startingDeadlineSeconds to bound the search)",
}

// explain is why's paragraph: newest problem first (a due time without a
// run), else the newest failed run, else that nothing went wrong.
func explain(c fleet.CronJob, runs []fleet.Run, now time.Time) string {
	who := fmt.Sprintf("CronJob %s/%s (%q%s)", c.Namespace, c.Name, c.Schedule, zoneSuffix(c.TimeZone))
	h, loc := c.Health, cronZone(c.TimeZone)
	var b strings.Builder
	switch h.State {
	case fleet.StateSuspended:
		by := "in Git (spec.suspend: true)"
		if h.SuspendedBy == "hand" {
			by = "by hand (jobsync suspend or a patch; Git has it running: `jobsync resume` or a Git change undoes it)"
		}
		fmt.Fprintf(&b, "%s is suspended %s, so none of its due times get a run.", who, by)
	case fleet.StateLate:
		fmt.Fprintf(&b, "%s is late: its run due at %s has no Job %s after that time.", who, when(h.Due, loc), duration.HumanDuration(now.Sub(h.Due)))
		if h.Reason == string(fleet.MissForbid) {
			b.WriteString(" concurrencyPolicy is Forbid and the previous run is still active: it starts when that one ends, if its starting deadline allows.")
		} else {
			b.WriteString(" The controller may still start it; if it does not, check that the agent is running and its logs.")
		}
	case fleet.StateMissed:
		why := missWhy[fleet.MissReason(h.Reason)]
		if why == "" {
			why = h.Reason
		}
		fmt.Fprintf(&b, "%s missed its run due at %s: %s.", who, when(h.Due, loc), why)
	}
	if f := lastFailed(runs); f != nil && (b.Len() == 0 || h.State == fleet.StateFailing || h.State == fleet.StateSuspended) {
		if b.Len() > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s's last failed run, Job %s (%s%s), started at %s and failed after %s: %s.", who, f.Job, f.Trigger,
			dueOf(f, loc), when(f.Start, loc), duration.HumanDuration(f.Duration()), orDefault(f.Reason, "no reason recorded"))
		if c.LastSuccess.After(f.End) {
			fmt.Fprintf(&b, " It has succeeded since (last success %s ago).", duration.HumanDuration(now.Sub(c.LastSuccess)))
		} else {
			b.WriteString(" No run has succeeded since; it stays Failing until one does (see `jobsync logs " + f.Job + "` while the Job is kept).")
		}
	}
	if b.Len() == 0 {
		fmt.Fprintf(&b, "%s has no missed or failed run in its ledger (%d runs kept); it is %s.", who, len(runs), h.State)
	}
	if !c.Next.IsZero() {
		fmt.Fprintf(&b, " Next run: %s.", when(c.Next, loc))
	}
	return b.String()
}

func lastFailed(runs []fleet.Run) *fleet.Run {
	for i := range runs { // newest first
		if runs[i].Result == fleet.ResultFailed {
			return &runs[i]
		}
	}
	return nil
}

func dueOf(r *fleet.Run, loc *time.Location) string {
	if r.Scheduled.IsZero() {
		return ""
	}
	return ", due " + when(r.Scheduled, loc)
}

// when formats t in loc (the CronJob's zone: times read over the socket
// carry only an offset, not the zone's name).
func when(t time.Time, loc *time.Location) string { return t.In(loc).Format("2006-01-02 15:04:05 MST") }

func zoneSuffix(tz string) string {
	if tz == "" {
		return ""
	}
	return " " + tz
}
