package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/spf13/cobra"
)

// Exit codes shared by every command (validate's contract: 0 clean, 1 findings, 2 usage/I/O).
const (
	exitOK       = 0
	exitFindings = 1
	exitUsage    = 2
)

// exitError carries an exit code out of a cobra RunE.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// withCode wraps err so that run exits with code.
func withCode(code int, err error) error { return &exitError{code: code, err: err} }

// streams are the process's standard streams and environment, passed to every command.
type streams struct {
	in       io.Reader
	out, err io.Writer
	// env looks up an environment variable (os.LookupEnv in main, a map in tests).
	env func(string) (string, bool)
}

// commands lists every subcommand. To add one, write its
// newXCmd(s streams) *cobra.Command in its own file and add the call here.
func commands(s streams) []*cobra.Command {
	return []*cobra.Command{
		// checking and applying a path
		newValidateCmd(s),
		newScheduleCmd(s),
		newDiffCmd(s),
		newApplyCmd(s),
		newSourceCmd(s),
		// the agent, and driving its embedded target
		newAgentCmd(s),
		newGetCmd(s),
		newLogsCmd(s),
		newRunsCmd(s),
		newWhyCmd(s),
		newTriggerCmd(s),
		newSuspendCmd(s, true),
		newSuspendCmd(s, false),
		newReconcileCmd(s),
		newVersionCmd(s),
	}
}

func newRootCmd(s streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "jobsync",
		Short: "GitOps for Kubernetes Jobs and CronJobs: validate, apply, or run them yourself",
		Long: `jobsync watches a Git repository of Job and CronJob manifests, renders
kustomize overlays, validates every object exactly as the Kubernetes API server
would (plus batch best-practice policies), and applies the result to a cluster
or runs it itself with its own Job/CronJob controllers.

Every flag can also be set from the environment: JOBSYNC_ followed by the flag
name in upper case with dashes as underscores (--state-dir is JOBSYNC_STATE_DIR).
A flag on the command line wins over the environment.`,
		Example: `  # check manifests as the API server would, in a pull request
  jobsync validate -o github deploy/

  # run a repository's CronJobs on this machine, no cluster needed
  jobsync agent --repo https://github.com/acme/batch.git --path overlays/prod --target embedded

  # see what the running agent is doing
  jobsync get cronjobs
  jobsync logs nightly-backup-29300000`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error { return flagsFromEnv(cmd, s.env) }
	root.SetIn(s.in)
	root.SetOut(s.out)
	root.SetErr(s.err)
	root.AddCommand(commands(s)...)
	return root
}

// run executes the CLI and returns the process exit code.
func run(args []string, in io.Reader, out, errw io.Writer) int {
	return runEnv(args, in, out, errw, os.LookupEnv)
}

// runEnv is run with an explicit environment.
func runEnv(args []string, in io.Reader, out, errw io.Writer, env func(string) (string, bool)) int {
	return execute(newRootCmd(streams{in: in, out: out, err: errw, env: env}), args, errw)
}

// execute runs root with args and returns the process exit code.
func execute(root *cobra.Command, args []string, errw io.Writer) int {
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(errw, "jobsync: %v\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(errw, "jobsync: %v\n", err)
	return exitUsage
}

// EnvPrefix starts the environment variable that sets a flag: --state-dir is
// JOBSYNC_STATE_DIR. A flag given on the command line wins over the variable.
const EnvPrefix = "JOBSYNC_"

// envName returns the environment variable for a flag.
func envName(flag string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// flagsFromEnv sets every flag of cmd not given on the command line from its
// environment variable, if set.
func flagsFromEnv(cmd *cobra.Command, env func(string) (string, bool)) error {
	if env == nil {
		return nil
	}
	var firstErr error
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Changed || f.Name == "help" || firstErr != nil {
			return
		}
		v, ok := env(envName(f.Name))
		if !ok {
			return
		}
		if err := cmd.Flags().Set(f.Name, v); err != nil {
			firstErr = withCode(exitUsage, fmt.Errorf("%s=%q: invalid value for --%s: %w", envName(f.Name), v, f.Name, err))
		}
	})
	return firstErr
}
