package report

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jobsync/jobsync/manifests"
)

// Output formats accepted by Write.
const (
	FormatText   = "text"
	FormatJSON   = "json"
	FormatSARIF  = "sarif"
	FormatJUnit  = "junit"
	FormatGitHub = "github"
)

// Formats lists every format Write accepts, the default first.
var Formats = []string{FormatText, FormatJSON, FormatSARIF, FormatJUnit, FormatGitHub}

// ErrUnknownFormat is returned by Write for a format not in Formats.
var ErrUnknownFormat = errors.New("unknown output format")

// Severities of a Rule.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
)

// Rule describes one rule id for the formats that carry rule metadata (SARIF).
type Rule struct {
	// ID is the rule id findings carry (manifests.RuleUpstream or a policy id).
	ID string
	// Severity is the rule's default severity: SeverityError or SeverityWarning.
	Severity string
	// Summary says in one line what the rule checks.
	Summary string
	// Rationale says why it matters.
	Rationale string
	// Hint says how to fix a finding.
	Hint string
	// HelpURI points at the rule's documentation.
	HelpURI string
}

// Options tune the output.
type Options struct {
	// Color adds ANSI colours to the text format (the caller decides: TTY, NO_COLOR).
	Color bool
	// Rules describes the rules in force, for SARIF's tool.driver.rules. Rule ids
	// that findings carry but Rules lacks get a minimal description.
	Rules []Rule
	// ToolVersion is jobsync's version, recorded in SARIF.
	ToolVersion string
	// SourceRoot, when set, is the absolute directory that relative file names
	// are relative to; SARIF records it as the %SRCROOT% base.
	SourceRoot string
}

// DefaultOptions returns plain (uncoloured) output with no rule metadata.
func DefaultOptions() Options { return Options{ToolVersion: "dev"} }

// Write writes results to w in format ("" means text).
func Write(w io.Writer, format string, results []manifests.Result, opts Options) error {
	var err error
	switch format {
	case "", FormatText:
		err = writeText(w, results, opts)
	case FormatJSON:
		err = writeJSON(w, results)
	case FormatSARIF:
		err = writeSARIF(w, results, opts)
	case FormatJUnit:
		err = writeJUnit(w, results)
	case FormatGitHub:
		err = writeGitHub(w, results)
	default:
		return fmt.Errorf("%w %q (want one of %s)", ErrUnknownFormat, format, strings.Join(Formats, ", "))
	}
	if err != nil {
		return fmt.Errorf("write %s report: %w", format, err)
	}
	return nil
}

// Summary counts results the way every format reports them.
type Summary struct {
	// Objects is the number of results (documents), checked or not.
	Objects int
	// Valid is the number of results without errors.
	Valid int
	// Invalid is the number of results with at least one error.
	Invalid int
	// Warnings is the number of warnings over all results.
	Warnings int
	// Errors is the number of errors over all results.
	Errors int
	// NotChecked is the number of objects of kinds jobsync does not validate.
	NotChecked int
}

// Summarize counts results.
func Summarize(results []manifests.Result) Summary {
	var s Summary
	for i := range results {
		r := &results[i]
		s.Objects++
		if r.Valid() {
			s.Valid++
		} else {
			s.Invalid++
		}
		s.Errors += len(r.Errors)
		s.Warnings += len(r.Warnings)
		if notChecked(r) {
			s.NotChecked++
		}
	}
	return s
}

// notChecked reports whether r is an object of a kind jobsync does not
// validate (and that has nothing else to say).
func notChecked(r *manifests.Result) bool {
	return !r.Checked && len(r.Errors) == 0 && len(r.Warnings) == 0
}

// ref names the object of r as Kind/namespace/name, leaving out empty parts;
// "" when the document did not decode far enough to have a kind or a name.
func ref(r *manifests.Result) string {
	parts := make([]string, 0, 3)
	for _, p := range []string{r.Kind, r.Namespace, r.Name} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "/")
}

// fileName is r's file as shown to users.
func fileName(r *manifests.Result) string {
	if r.File == "" {
		return "-"
	}
	return r.File
}

// findingLine is the line of f in r's file: the field's line when known.
func findingLine(r *manifests.Result, f *manifests.Finding) int {
	if f.Line > 0 {
		return f.Line
	}
	return r.Line
}

// location renders file:line (file alone when the line is unknown).
func location(file string, line int) string {
	if line > 0 {
		return fmt.Sprintf("%s:%d", file, line)
	}
	return file
}

// describe renders "ref: field: message [rule]", leaving out empty parts.
func describe(r *manifests.Result, f *manifests.Finding) string {
	var b strings.Builder
	if s := ref(r); s != "" {
		b.WriteString(s)
		b.WriteString(": ")
	}
	b.WriteString(fieldMessage(f))
	return b.String()
}

// fieldMessage renders "field: message [rule]".
func fieldMessage(f *manifests.Finding) string {
	var b strings.Builder
	if f.Field != "" {
		b.WriteString(f.Field)
		b.WriteString(": ")
	}
	b.WriteString(f.Message)
	if f.Rule != "" {
		fmt.Fprintf(&b, " [%s]", f.Rule)
	}
	return b.String()
}
