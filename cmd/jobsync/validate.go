package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/jobsync/jobsync/manifests"
	"github.com/jobsync/jobsync/policy"
	"github.com/jobsync/jobsync/render"
	"github.com/jobsync/jobsync/report"
)

func init() { register(newValidateCmd) }

// configFileName is the policy configuration looked up beside the validated path.
const configFileName = ".jobsync.yaml"

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

Policy configuration: --config, else .jobsync.yaml at the root of the first
PATH (or beside it when PATH is a file), else .jobsync.yaml in the current
directory, else the defaults.

Exit codes: 0 no object has an error; 1 some object has an error (or, with
--strict, a warning); 2 usage or I/O failure (bad flag, unreadable path, bad
configuration).

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
			return runValidate(s, args, f)
		},
	}
	fl := c.Flags()
	fl.StringVarP(&f.output, "output", "o", report.FormatText, "output format: "+strings.Join(report.Formats, ", "))
	fl.BoolVar(&f.strict, "strict", false, "exit 1 on warnings too")
	fl.BoolVar(&f.allowRemote, "allow-remote-bases", false, "let kustomizations load remote (http, git) bases")
	fl.StringVar(&f.config, "config", "", "policy configuration file (default: .jobsync.yaml at the first PATH's root, else in the current directory)")
	fl.BoolVar(&f.noColor, "no-color", false, "never colour the text output (also when NO_COLOR is set)")
	fl.IntVar(&f.maxDocMB, "max-document-mb", 8, "largest document accepted, in MiB; larger ones are findings")
	f.render.register(c)
	return c
}

// runValidate is render → manifests.Check → policy.Apply → report.
func runValidate(s streams, paths []string, f validateFlags) error {
	if !slices.Contains(report.Formats, f.output) {
		return withCode(exitUsage, fmt.Errorf("--output %q: use one of %s", f.output, strings.Join(report.Formats, ", ")))
	}
	if len(paths) == 0 {
		paths = []string{"."}
	}
	if countOf(paths, "-") > 1 {
		return withCode(exitUsage, errors.New("standard input (-) can be given only once"))
	}
	cfg, err := validateConfig(f.config, paths)
	if err != nil {
		return withCode(exitUsage, err)
	}
	ropts := render.DefaultOptions()
	ropts.AllowRemoteBases = f.allowRemote
	ropts.Stdin = s.in
	ropts.MaxDocumentBytes = f.maxDocMB << 20
	f.render.apply(&ropts)
	if ropts.Root, err = renderRoot(paths); err != nil {
		return withCode(exitUsage, err)
	}
	docs, err := render.Render(paths, ropts)
	if err != nil {
		return withCode(exitUsage, err)
	}
	mopts := manifests.DefaultOptions()
	mopts.MaxDocumentBytes = ropts.MaxDocumentBytes
	// Policies run in Check's workers, right after each document is checked;
	// the decoded objects are dropped there (only the findings are reported),
	// which keeps the memory of a large run small.
	now := validateNow()
	mopts.Each = func(r *manifests.Result) {
		policy.ApplyTo(r, cfg, now)
		r.Object, r.Unstructured = nil, nil
	}
	mopts.DropLines = true
	results := manifests.Check(validateInputs(docs), mopts)

	opts := report.DefaultOptions()
	opts.ToolVersion = version
	opts.Rules = reportRules()
	opts.Color = f.output == report.FormatText && useColor(s, f.noColor)
	if abs, err := filepath.Abs(ropts.Root); err == nil {
		opts.SourceRoot = abs
	}
	if err := report.Write(s.out, f.output, results, opts); err != nil {
		return withCode(exitUsage, err)
	}
	return validateExit(results, f.strict)
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

func validateInputs(docs []render.Document) []manifests.Input {
	in := make([]manifests.Input, len(docs))
	for i, d := range docs {
		in[i] = manifests.Input{File: d.Origin.File, Line: d.Origin.Line, Data: d.Data, Err: d.Err}
	}
	return in
}

// validateConfig loads --config, else .jobsync.yaml at the first path's root,
// else in the current directory, else returns the defaults.
func validateConfig(flag string, paths []string) (policy.Config, error) {
	if flag != "" {
		return policy.LoadConfig(flag)
	}
	var candidates []string
	if p := paths[0]; p != "-" {
		dir := p
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			dir = filepath.Dir(p)
		}
		candidates = append(candidates, filepath.Join(dir, configFileName))
	}
	candidates = append(candidates, configFileName)
	for _, c := range candidates {
		fi, err := os.Stat(c)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return policy.Config{}, fmt.Errorf("policy config %s: %w", c, err)
		}
		if fi.Mode().IsRegular() {
			return policy.LoadConfig(c)
		}
	}
	return policy.DefaultConfig(), nil
}

// renderRoot is the directory kustomize may load from and file names are
// relative to: the current directory when every path is below it (CI runs at
// the repository root), else the Git work tree holding the first path, else
// the first path itself (its directory for a file).
func renderRoot(paths []string) (string, error) {
	cwd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("current directory: %w", err)
	}
	var outside string
	for _, p := range paths {
		if p == "-" {
			continue
		}
		abs, err := filepath.Abs(p)
		if err != nil {
			return "", fmt.Errorf("path %s: %w", p, err)
		}
		if rel, err := filepath.Rel(cwd, abs); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			outside = abs
			break
		}
	}
	if outside == "" {
		return cwd, nil
	}
	dir := outside
	if fi, err := os.Stat(outside); err == nil && !fi.IsDir() {
		dir = filepath.Dir(outside)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return dir, nil
		}
	}
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
