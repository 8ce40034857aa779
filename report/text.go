package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/jobsync/jobsync/manifests"
)

// ANSI styles for the text format.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiDim    = "\x1b[2m"
	ansiRed    = "\x1b[1;31m"
	ansiYellow = "\x1b[1;33m"
	ansiGreen  = "\x1b[1;32m"
)

// painter applies ANSI styles when colour is on.
type painter bool

func (p painter) paint(style, s string) string {
	if !p {
		return s
	}
	return style + s + ansiReset
}

// writeText writes one line per finding, then the objects that were not
// checked, then a summary line:
//
//	file:line: error: Kind/namespace/name: field: message [rule]
//	file:line: warning: Kind/namespace/name: field: message [rule]
//	file:line: not checked: Kind/namespace/name
//	N objects: V valid, I invalid (E errors), W warnings, C not checked
func writeText(w io.Writer, results []manifests.Result, opts Options) error {
	bw := bufio.NewWriter(w)
	p := painter(opts.Color)
	for i := range results {
		r := &results[i]
		for j := range r.Errors {
			textFinding(bw, p, r, &r.Errors[j], p.paint(ansiRed, "error"))
		}
		for j := range r.Warnings {
			textFinding(bw, p, r, &r.Warnings[j], p.paint(ansiYellow, "warning"))
		}
	}
	for i := range results {
		r := &results[i]
		if notChecked(r) {
			fmt.Fprintf(bw, "%s: %s: %s (jobsync validates batch/v1 Job and CronJob only)\n",
				p.paint(ansiBold, location(fileName(r), r.Line)), p.paint(ansiDim, "not checked"), ref(r))
		}
	}
	s := Summarize(results)
	style := ansiGreen
	if s.Invalid > 0 {
		style = ansiRed
	}
	fmt.Fprintln(bw, p.paint(style, summaryLine(s)))
	return bw.Flush()
}

// summaryLine renders "N objects: V valid, I invalid (E errors), W warnings,
// C not checked".
func summaryLine(s Summary) string {
	return fmt.Sprintf("%d %s: %d valid, %d invalid (%d %s), %d %s, %d not checked",
		s.Objects, plural(s.Objects, "object", "objects"), s.Valid, s.Invalid,
		s.Errors, plural(s.Errors, "error", "errors"), s.Warnings, plural(s.Warnings, "warning", "warnings"), s.NotChecked)
}

func textFinding(w io.Writer, p painter, r *manifests.Result, f *manifests.Finding, severity string) {
	loc := p.paint(ansiBold, location(fileName(r), findingLine(r, f)))
	rule := ""
	if f.Rule != "" {
		rule = " " + p.paint(ansiDim, "["+f.Rule+"]")
	}
	head := ""
	if s := ref(r); s != "" {
		head = s + ": "
	}
	if f.Field != "" {
		head += f.Field + ": "
	}
	fmt.Fprintf(w, "%s: %s: %s%s%s\n", loc, severity, head, oneLine(f.Message), rule)
}

// oneLine folds a multi-line message onto one line, so that each finding is
// exactly one line of text output.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// WriteTextErrors writes the errors of results in the text format, one line
// each, without colour or summary: what apply and diff print of a rejected
// revision, as validate prints it.
func WriteTextErrors(w io.Writer, results []manifests.Result) error {
	bw := bufio.NewWriter(w)
	for i := range results {
		r := &results[i]
		for j := range r.Errors {
			textFinding(bw, painter(false), r, &r.Errors[j], "error")
		}
	}
	return bw.Flush()
}
