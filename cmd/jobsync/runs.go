package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/jobsync/jobsync/fleet"
)

func newRunsCmd(s streams) *cobra.Command {
	var f getFlags
	limit := 20
	c := &cobra.Command{
		Use:   "runs CRONJOB",
		Short: "List a CronJob's runs from the run ledger, newest first",
		Long: `runs lists every run of a CronJob that the ledger keeps (30 days by default,
also after history limits or a TTL deleted the Job): what triggered it
(scheduled, catch-up, manual), when it was due and started, how late (SKEW),
how long it ran, and how it ended with why (condition, exit code, OOMKilled).
It asks the running agent over its unix socket in --state-dir, or reads the
ledger when the agent is stopped.`,
		Example: `  jobsync runs heartbeat --state-dir .run/state
  jobsync runs pg-backup -n batch --limit 0 -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, runs, err := cronJobRuns(cmd.Context(), f, args[0], limit)
			if err != nil {
				return err
			}
			return printRuns(s.out, runs, f.output, time.Now())
		},
	}
	addStateFlags(c, &f)
	c.Flags().IntVar(&limit, "limit", limit, "at most this many runs (0: all that are kept)")
	c.Flags().StringVarP(&f.output, "output", "o", "", "output format: '' (table) or json")
	return c
}

// cronJobRuns finds the CronJob arg names (in -n, or the one namespace
// that has it) and reads its newest limit runs, for runs and why.
func cronJobRuns(ctx context.Context, f getFlags, arg string, limit int) (fleet.CronJob, []fleet.Run, error) {
	fr, closeRT, err := openFleet(ctx, f.stateDir)
	if err != nil {
		return fleet.CronJob{}, nil, withCode(exitUsage, err)
	}
	defer closeRT()
	ns, name := splitNamespaced(arg, f.namespace)
	cj, err := findFleetCronJob(ctx, fr, ns, name)
	if err != nil {
		return cj, nil, err
	}
	runs, err := fr.FleetRuns(ctx, cj.Namespace, cj.Name, limit)
	return cj, runs, err
}

// openFleet is openRuntime for the ledger's commands.
func openFleet(ctx context.Context, stateDir string) (fleetReader, func(), error) {
	rt, closeRT, err := openRuntime(ctx, stateDir)
	if err != nil {
		return nil, nil, err
	}
	fr, ok := rt.(fleetReader)
	if !ok {
		closeRT()
		return nil, nil, fmt.Errorf("%s: no run ledger here", stateDir)
	}
	return fr, closeRT, nil
}

// findFleetCronJob finds a CronJob by name, in ns or in the one namespace
// that has it.
func findFleetCronJob(ctx context.Context, fr fleetReader, ns, name string) (fleet.CronJob, error) {
	all, err := fr.FleetCronJobs(ctx)
	if err != nil {
		return fleet.CronJob{}, err
	}
	var found []fleet.CronJob
	for _, c := range all {
		if c.Name == name && (ns == "" || c.Namespace == ns) {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 0:
		return fleet.CronJob{}, withCode(exitFindings, fmt.Errorf("no CronJob named %q (see `jobsync get cronjobs`)", name))
	case 1:
		return found[0], nil
	}
	var nss []string
	for _, c := range found {
		nss = append(nss, c.Namespace)
	}
	return fleet.CronJob{}, withCode(exitUsage, fmt.Errorf("CronJob %q exists in namespaces %s: choose one with -n", name, strings.Join(nss, ", ")))
}

func printRuns(w io.Writer, runs []fleet.Run, output string, now time.Time) error {
	switch output {
	case "json":
		if runs == nil {
			runs = []fleet.Run{}
		}
		b, err := json.MarshalIndent(runs, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	case "":
	default:
		return withCode(exitUsage, fmt.Errorf("unknown output format %q: use json", output))
	}
	if len(runs) == 0 {
		fmt.Fprintln(w, "No runs in the ledger.")
		return nil
	}
	tw := newTab(w)
	defer tw.Flush()
	fmt.Fprintln(tw, "JOB\tTRIGGER\tSCHEDULED\tSTARTED\tSKEW\tDURATION\tRESULT\tREASON")
	for _, r := range runs {
		sched, skew := "<none>", "<none>"
		if !r.Scheduled.IsZero() {
			sched, skew = r.Scheduled.UTC().Format(time.RFC3339), r.Skew().Round(time.Millisecond).String()
		}
		dur := "<running>"
		if !r.End.IsZero() {
			dur = duration.HumanDuration(r.Duration())
		} else if r.Result == fleet.ResultRunning {
			dur = duration.HumanDuration(now.Sub(r.Start)) + " so far"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Job, r.Trigger, sched, r.Start.UTC().Format(time.RFC3339),
			skew, dur, r.Result, orDefault(r.Reason, "<none>"))
	}
	return nil
}
