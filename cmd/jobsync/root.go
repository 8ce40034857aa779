package main

import (
	"errors"
	"fmt"
	"io"

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

// streams are the process's standard streams, passed to every command.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

// subcommands is filled by init functions in the command files, one per file,
// so that commands can be added without editing this file.
var subcommands []func(s streams) *cobra.Command

func register(f func(s streams) *cobra.Command) { subcommands = append(subcommands, f) }

func newRootCmd(s streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "jobsync",
		Short: "GitOps for Kubernetes Jobs and CronJobs: validate, apply, or run them yourself",
		Long: `jobsync watches a Git repository of Job and CronJob manifests, renders
kustomize overlays, validates every object exactly as the Kubernetes API server
would (plus batch best-practice policies), and applies the result to a cluster
or runs it itself with its own Job/CronJob controllers.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(s.in)
	root.SetOut(s.out)
	root.SetErr(s.err)
	for _, f := range subcommands {
		root.AddCommand(f(s))
	}
	return root
}

// run executes the CLI and returns the process exit code.
func run(args []string, in io.Reader, out, errw io.Writer) int {
	s := streams{in: in, out: out, err: errw}
	root := newRootCmd(s)
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
