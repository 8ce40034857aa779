package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/jobsync/jobsync/gate"
	"github.com/jobsync/jobsync/manifests"
	"github.com/jobsync/jobsync/policy"
	"github.com/jobsync/jobsync/report"
)

// validateNow is the clock validate anchors schedule policies to (tests pin it).
var validateNow = time.Now

// validateFlags are the flags of jobsync validate.
type validateFlags struct {
	output      string
	strict      bool
	allowRemote bool
	config      string
	noColor     bool
	maxDocMB    int
	render      renderLimitFlags
	root        string
}

func newValidateCmd(s streams) *cobra.Command {
	var f validateFlags
	c := &cobra.Command{
		Use:   "validate [PATH|-]...",
		Short: "Validate Job and CronJob manifests as the Kubernetes API server would, plus batch policies",
		Long: `validate renders each PATH (a file, a directory of .yaml/.yml/.json files, a
kustomization directory, or - for standard input; default .), checks every
batch/v1 Job and CronJob exactly as the Kubernetes API server would (strict
decoding, defaults, upstream validation rules and warnings), then applies the
batch policies of .jobsync.yaml (see docs/policies.md).

Objects of other kinds are listed as not checked. Each finding names its file,
line, object, API field path and rule (upstream for API-server rules, else the
policy id).

The root is --root, else the Git work tree holding the first PATH, else that
PATH itself; never the current directory, so a PATH gives the same output
from anywhere. Kustomizations load nothing outside the root (a base beside
the overlay is fine when both are in it), and file names are relative to it.

Policy configuration: --config, else the nearest .jobsync.yaml from the first
PATH up to the root, else the defaults.

Exit codes: 0 no object has an error; 1 some object has an error (or, with
--strict, a warning); 2 usage or I/O failure (bad flag, unreadable path, a
PATH outside --root, bad configuration).

Colour: text output is coloured on a terminal unless --no-color is given or
the NO_COLOR environment variable is set.`,
		Example: `  # validate the current directory (plain YAML or a kustomization)
  jobsync validate

  # several paths; each overlay is rendered with kustomize
  jobsync validate examples/overlays/dev examples/overlays/prod

  # read a stream from standard input
  kustomize build overlays/prod | jobsync validate -

  # output formats: text (default), json, sarif, junit, github
  jobsync validate -o json deploy/ > findings.json
  jobsync validate -o sarif . > jobsync.sarif
  jobsync validate -o junit . > junit.xml
  jobsync validate -o github .     # ::error file=...,line=...:: annotations

  # fail on warnings too
  jobsync validate --strict .

  # let kustomizations load remote (git/http) bases
  jobsync validate --allow-remote-bases overlays/prod

  # use a policy configuration from elsewhere
  jobsync validate --config ci/jobsync.yaml .

  # plain text even on a terminal (NO_COLOR=1 does the same)
  jobsync validate --no-color .

  # accept documents up to 32 MiB (default 8; larger ones are findings)
  jobsync validate --max-document-mb 32 generated/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runValidate(cmd.Context(), s, args, f)
		},
	}
	fl := c.Flags()
	fl.StringVarP(&f.output, "output", "o", report.FormatText, "output format: "+strings.Join(report.Formats, ", "))
	fl.BoolVar(&f.strict, "strict", false, "exit 1 on warnings too")
	fl.BoolVar(&f.allowRemote, "allow-remote-bases", false, "let kustomizations load remote (http, git) bases")
	fl.StringVar(&f.config, "config", "", "policy configuration file (default: the nearest .jobsync.yaml from the first PATH up to the root)")
	fl.StringVar(&f.root, "root", "", rootFlagHelp)
	fl.BoolVar(&f.noColor, "no-color", false, "never colour the text output (also when NO_COLOR is set)")
	fl.IntVar(&f.maxDocMB, "max-document-mb", 8, "largest document accepted, in MiB; larger ones are findings")
	f.render.register(c)
	return c
}

// runValidate is the gate (render → manifests.Check → policies) → report.
func runValidate(ctx context.Context, s streams, paths []string, f validateFlags) error {
	if !slices.Contains(report.Formats, f.output) {
		return withCode(exitUsage, fmt.Errorf("--output %q: use one of %s", f.output, strings.Join(report.Formats, ", ")))
	}
	if len(paths) == 0 {
		paths = []string{"."}
	}
	if countOf(paths, "-") > 1 {
		return withCode(exitUsage, errors.New("standard input (-) can be given only once"))
	}
	g := gate.DefaultOptions()
	g.Render.AllowRemoteBases = f.allowRemote
	g.Render.Stdin = s.in
	g.Render.MaxDocumentBytes = f.maxDocMB << 20
	g.Render.Root = f.root
	f.render.apply(&g.Render)
	g.ConfigFile = f.config
	g.Now = validateNow()
	v, err := gate.Run(ctx, paths, g)
	if err != nil {
		return withCode(exitUsage, err)
	}
	opts := report.DefaultOptions()
	opts.ToolVersion = version
	opts.Rules = reportRules()
	opts.Color = f.output == report.FormatText && useColor(s, f.noColor)
	opts.SourceRoot = v.Root
	if opts.SourceRoot == "" {
		opts.SourceRoot, _ = filepath.Abs(".")
	}
	if err := report.Write(s.out, f.output, v.Results, opts); err != nil {
		return withCode(exitUsage, err)
	}
	return validateExit(v.Results, f.strict)
}

// validateExit maps results to the exit code: 1 on errors (or warnings with strict).
func validateExit(results []manifests.Result, strict bool) error {
	sum := report.Summarize(results)
	switch {
	case sum.Invalid > 0:
		return withCode(exitFindings, nil)
	case strict && sum.Warnings > 0:
		return withCode(exitFindings, nil)
	}
	return nil
}

// useColor: colour only on a terminal, and never with --no-color or NO_COLOR set.
func useColor(s streams, noColor bool) bool {
	if noColor {
		return false
	}
	if s.env != nil {
		// no-color.org: set to a non-empty value.
		if v, _ := s.env("NO_COLOR"); v != "" {
			return false
		}
	}
	return isTerminal(s.out)
}

// isTerminal reports whether w is a terminal (a variable so tests can pretend).
var isTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// validateDocs documents the upstream rules.
const validateDocs = "https://github.com/jobsync/jobsync/blob/main/docs/validate.md"

// reportRules describes every rule in force for the SARIF output.
func reportRules() []report.Rule {
	rules := []report.Rule{{
		ID:       manifests.RuleUpstream,
		Severity: report.SeverityError,
		Summary:  "The Kubernetes API server would reject or warn about this object.",
		Rationale: "jobsync runs the API server's own validation rules for batch/v1 Job and CronJob " +
			"and their pod templates, so the object would fail to apply.",
		Hint:    "Fix the field as the message says; the field path is the API server's.",
		HelpURI: validateDocs + "#what-is-checked",
	}, {
		ID:        manifests.RuleScheduleNeverFires,
		Severity:  report.SeverityWarning,
		Summary:   "A CronJob schedule that never fires.",
		Rationale: "The API server accepts schedules such as \"0 0 31 2 *\" (February 31st) that match no time, so the CronJob never creates a Job.",
		Hint:      "Fix the day-of-month/month combination of spec.schedule so that it matches a real date.",
		HelpURI:   validateDocs + "#what-is-checked",
	}}
	for _, r := range policy.Rules() {
		sev := report.SeverityWarning
		if r.DefaultSeverity == policy.SeverityError {
			sev = report.SeverityError
		}
		rules = append(rules, report.Rule{
			ID: r.ID, Severity: sev, Summary: r.Summary, Rationale: r.Rationale, Hint: r.Hint, HelpURI: r.HelpURI(),
		})
	}
	return rules
}

func countOf(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}

// rootFlagHelp is the help of --root, the same for every command that renders.
const rootFlagHelp = "the directory kustomize may load from and file names are relative to (default: the Git work tree holding PATH, else PATH itself)"
