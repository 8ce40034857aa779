package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/jobsync/jobsync/agent"
)

func newTriggerCmd(s streams) *cobra.Command {
	var f getFlags
	c := &cobra.Command{
		Use:   "trigger CRONJOB",
		Short: "Run a CronJob now (like kubectl create job --from=cronjob/NAME)",
		Long: `trigger asks the running agent (embedded target) to create a Job from the
CronJob's jobTemplate at once, named <cronjob>-manual-<suffix> and annotated
cronjob.kubernetes.io/instantiate: manual. The CronJob's schedule is not affected.`,
		Example: `  jobsync trigger heartbeat --state-dir .run/state
  jobsync trigger pg-backup -n batch`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ns, name := splitNamespaced(args[0], f.namespace)
			c, err := runningAgent(cmd.Context(), f.stateDir)
			if err != nil {
				return withCode(exitUsage, err)
			}
			if ns == "" {
				if ns, err = findCronJobNamespace(cmd, c, name); err != nil {
					return err
				}
			}
			job, err := c.Trigger(cmd.Context(), ns, name)
			if err != nil {
				return withCode(exitFindings, fmt.Errorf("CronJob/%s/%s: %w", ns, name, err))
			}
			fmt.Fprintf(s.out, "job/%s created\n", job.Name)
			return nil
		},
	}
	addStateFlags(c, &f)
	return c
}

func newSuspendCmd(s streams, suspend bool) *cobra.Command {
	var f getFlags
	verb, done := "resume", "resumed"
	short := "Resume a suspended CronJob (embedded target)"
	if suspend {
		verb, done = "suspend", "suspended"
		short = "Suspend a CronJob: no new Jobs until resumed (embedded target)"
	}
	c := &cobra.Command{
		Use:   verb + " CRONJOB",
		Short: short,
		Long: short + `.

The change is made in the running agent's state, not in Git: the next commit
that changes the CronJob's spec.suspend wins. Runs missed while suspended
count as missed when it resumes (startingDeadlineSeconds applies).`,
		Example: "  jobsync " + verb + " heartbeat --state-dir .run/state",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ns, name := splitNamespaced(args[0], f.namespace)
			c, err := runningAgent(cmd.Context(), f.stateDir)
			if err != nil {
				return withCode(exitUsage, err)
			}
			if ns == "" {
				if ns, err = findCronJobNamespace(cmd, c, name); err != nil {
					return err
				}
			}
			if err := c.Suspend(cmd.Context(), ns, name, suspend); err != nil {
				return withCode(exitFindings, fmt.Errorf("CronJob/%s/%s: %w", ns, name, err))
			}
			fmt.Fprintf(s.out, "cronjob/%s %s\n", name, done)
			return nil
		},
	}
	addStateFlags(c, &f)
	return c
}

func newReconcileCmd(s streams) *cobra.Command {
	var stateDir string
	c := &cobra.Command{
		Use:     "reconcile",
		Short:   "Ask the running agent to reconcile now (same as sending it SIGHUP)",
		Example: "  jobsync reconcile --state-dir .run/state",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := runningAgent(cmd.Context(), stateDir)
			if err != nil {
				return withCode(exitUsage, err)
			}
			if err := c.Reconcile(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintln(s.out, "reconcile requested")
			return nil
		},
	}
	c.Flags().StringVar(&stateDir, "state-dir", defaultStateDir, "the agent's state directory")
	return c
}

// splitNamespaced accepts NAME or cronjob/NAME; the namespace comes from -n
// ("" = find it).
func splitNamespaced(arg, ns string) (string, string) {
	if kind, name, ok := strings.Cut(arg, "/"); ok {
		if _, err := resourceKind(kind); err == nil {
			arg = name
		}
	}
	return ns, arg
}

// findCronJobNamespace finds the one namespace holding a CronJob of that name.
func findCronJobNamespace(cmd *cobra.Command, c *agent.Client, name string) (string, error) {
	cjs, err := c.CronJobs(cmd.Context())
	if err != nil {
		return "", err
	}
	var found []string
	for _, cj := range cjs {
		if cj.Name == name {
			found = append(found, cj.Namespace)
		}
	}
	switch len(found) {
	case 0:
		return "", withCode(exitFindings, fmt.Errorf("no CronJob named %q (see `jobsync get cronjobs`)", name))
	case 1:
		return found[0], nil
	}
	return "", withCode(exitUsage, fmt.Errorf("CronJob %q exists in namespaces %s: choose one with -n", name, strings.Join(found, ", ")))
}
