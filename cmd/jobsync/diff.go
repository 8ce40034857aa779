package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/jobsync/jobsync/reconcile"
	"github.com/jobsync/jobsync/reconcile/cluster"
)

// ANSI colours of diff lines.
const (
	diffAnsiReset = "\x1b[0m"
	diffAnsiBold  = "\x1b[1m"
	diffAnsiRed   = "\x1b[31m"
	diffAnsiGreen = "\x1b[32m"
	diffAnsiCyan  = "\x1b[36m"
)

// withoutPrunes returns cs without its prunes (diff shows them only with --prune).
func withoutPrunes(cs reconcile.ChangeSet) reconcile.ChangeSet {
	kept := cs.Changes[:0:0]
	for _, c := range cs.Changes {
		if c.Action != reconcile.ActionPrune {
			kept = append(kept, c)
		}
	}
	cs.Changes = kept
	return cs
}

type diffFlags struct {
	applyClusterFlags
	color string
}

func newDiffCmd(s streams) *cobra.Command {
	var f diffFlags
	c := &cobra.Command{
		Use:   "diff PATH",
		Short: "Show what apply would change in the cluster (server-side dry run)",
		Long: `diff renders and validates PATH like apply, then asks the API server what
applying it would do (server-side apply with dryRun=All: defaults, admission
and field ownership included) and prints a unified diff per object, live
before git. Nothing is written. Prunes are shown with --prune.

Exit codes (as kubectl diff): 0 no differences, 1 differences, 2 validation
errors, usage or connection problems.`,
		Example: `  jobsync diff ./deploy/overlays/prod -n batch
  jobsync diff . --prune --color=always | less -R`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runDiff(ctx, s, args[0], f)
		},
	}
	f.register(c)
	c.Flags().StringVar(&f.color, "color", "auto", "colour the diff: auto (when the output is a terminal and NO_COLOR is not set), always, never")
	return c
}

func runDiff(ctx context.Context, s streams, path string, f diffFlags) error {
	color, err := diffUseColor(f.color, s)
	if err != nil {
		return withCode(exitUsage, err)
	}
	if _, err := os.Stat(path); err != nil {
		return withCode(exitUsage, err)
	}
	tgt, ns, err := f.open()
	if err != nil {
		return withCode(exitUsage, err)
	}
	loop, err := f.loop(path, ns, tgt)
	if err != nil {
		return withCode(exitUsage, err)
	}
	a := loop.PlanOnce(ctx)
	printApplyFindings(s.out, a)
	if a.Err != nil {
		return withCode(exitUsage, fmt.Errorf("%s: %w", a.Stage, a.Err))
	}
	cs := a.ChangeSet
	if !f.prune {
		cs = withoutPrunes(cs)
	}
	diffs, err := tgt.Diff(ctx, cs)
	if err != nil {
		return withCode(exitUsage, err)
	}
	changed, failed := printDiffs(s.out, diffs, color)
	if failed > 0 {
		return withCode(exitUsage, fmt.Errorf("%d object(s) could not be dry-run", failed))
	}
	if changed > 0 {
		return withCode(exitFindings, nil)
	}
	return nil
}

// diffUseColor: auto colours on a terminal unless NO_COLOR is set, as
// validate does; always and never win over NO_COLOR.
func diffUseColor(mode string, s streams) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		return useColor(s, false), nil
	}
	return false, fmt.Errorf("--color %q: use auto, always or never", mode)
}

// printDiffs prints every diff, note and error; it returns how many objects
// would change and how many could not be dry-run.
func printDiffs(w io.Writer, diffs []cluster.ObjectDiff, color bool) (changed, failed int) {
	for _, d := range diffs {
		switch {
		case d.Err != "":
			failed++
			fmt.Fprintf(w, "%s %s: error: %s\n", d.Ref, d.Action, d.Err)
			continue
		case d.Changed():
			changed++
		case d.Note == "":
			continue
		}
		head := fmt.Sprintf("%s %s", d.Ref, d.Action)
		if d.Note != "" {
			head += ": " + d.Note
		}
		fmt.Fprintln(w, diffPaint(color, diffAnsiBold, "# "+head))
		for _, line := range strings.SplitAfter(d.Diff, "\n") {
			if line != "" {
				fmt.Fprint(w, diffColorLine(color, line))
			}
		}
	}
	return changed, failed
}

func diffColorLine(color bool, line string) string {
	body := strings.TrimSuffix(line, "\n")
	switch {
	case strings.HasPrefix(body, "---"), strings.HasPrefix(body, "+++"):
		return diffPaint(color, diffAnsiBold, body) + "\n"
	case strings.HasPrefix(body, "@@"):
		return diffPaint(color, diffAnsiCyan, body) + "\n"
	case strings.HasPrefix(body, "-"):
		return diffPaint(color, diffAnsiRed, body) + "\n"
	case strings.HasPrefix(body, "+"):
		return diffPaint(color, diffAnsiGreen, body) + "\n"
	}
	return body + "\n"
}

func diffPaint(color bool, code, s string) string {
	if !color {
		return s
	}
	return code + s + diffAnsiReset
}
