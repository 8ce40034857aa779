package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/jobsync/jobsync/agent"
	"github.com/jobsync/jobsync/gate"
	"github.com/jobsync/jobsync/reconcile"
	"github.com/jobsync/jobsync/reconcile/cluster"
	"github.com/jobsync/jobsync/render"
	"github.com/jobsync/jobsync/report"
)

// applyClusterFlags select the cluster and namespace the way kubectl does, and
// name the sync and field manager.
type applyClusterFlags struct {
	kubeFlags
	namespace, root    string
	fieldManager, sync string
	prune, allowEmpty  bool
	render             renderLimitFlags
}

func (f *applyClusterFlags) register(c *cobra.Command) {
	f.kubeFlags.register(c)
	fl := c.Flags()
	fl.StringVar(&f.root, "root", "", rootFlagHelp)
	fl.StringVarP(&f.namespace, "namespace", "n", "", "namespace for objects without one, and of the inventory (default: the context's, else \"default\")")
	fl.StringVar(&f.fieldManager, "field-manager", cluster.FieldManager, "server-side apply field manager")
	fl.StringVar(&f.sync, "sync-name", "default", "name of the sync: labels every applied object, names the inventory")
	fl.BoolVar(&f.prune, "prune", false, "delete objects of the inventory that left Git (never a controller's, never jobsync.io/prune: disabled)")
	fl.BoolVar(&f.allowEmpty, "allow-empty", false, "allow a render with no objects to prune everything (with --prune)")
	f.render.register(c)
}

// open returns the cluster target and the namespace in use.
func (f *applyClusterFlags) open() (*cluster.Target, string, error) {
	if f.kubeconfig != "" {
		if _, err := os.Stat(f.kubeconfig); err != nil {
			return nil, "", fmt.Errorf("--kubeconfig: %w", err)
		}
	}
	cc, _ := kubeClientConfig(f.kubeconfig, f.context, f.namespace)
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("no cluster to talk to (%w): use --kubeconfig and --context as with kubectl", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil || ns == "" {
		ns = "default"
	}
	o := cluster.DefaultOptions()
	o.Sync, o.Namespace, o.FieldManager = f.sync, ns, f.fieldManager
	o.QPS, o.Burst, o.AllowEmpty = f.qps, f.burst, f.allowEmpty
	t, err := cluster.New(cfg, o)
	return t, ns, err
}

// loop returns a one-shot reconcile loop of path into tgt. The loop's tree
// is path's root (--root, else the Git work tree holding path, else path
// itself; see render.FindRoot), so that a base beside the overlay renders
// and .jobsync.yaml is found as validate finds them, from any directory.
func (f *applyClusterFlags) loop(path, ns string, tgt reconcile.Target) (*reconcile.Loop, error) {
	root, err := render.FindRoot(path, f.root)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		return nil, err
	}
	src := reconcile.SourceFunc(func(context.Context) (reconcile.Snapshot, error) {
		rev, err := dirRevision(root)
		return reconcile.Snapshot{Revision: rev, Dir: root}, err
	})
	lo := reconcile.DefaultLoopOptions()
	lo.Sync, lo.Namespace, lo.Path = f.sync, ns, rel
	lo.Plan.AllowEmpty = f.allowEmpty
	lo.Render = f.render.options()
	return reconcile.NewLoop(src, tgt, lo), nil
}

// dirRevision names a directory's content: "dir@sha256:<hash>" of every
// file's path and bytes (.git left out), so that an unchanged tree has the
// same revision.
func dirRevision(root string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", filepath.ToSlash(rel), len(b))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("read %s: %w", root, err)
	}
	return "dir@sha256:" + hex.EncodeToString(h.Sum(nil))[:16], nil
}

// pruneGate leaves prunes out unless --prune: the objects stay, and stay in
// the inventory, so that a later --prune removes them.
type pruneGate struct {
	*cluster.Target
	prune bool
}

func (g pruneGate) Apply(ctx context.Context, cs reconcile.ChangeSet) (reconcile.ApplyResult, error) {
	if g.prune {
		return g.Target.Apply(ctx, cs)
	}
	kept := cs
	kept.Changes = nil
	var skipped []reconcile.Outcome
	for _, c := range cs.Changes {
		if c.Action == reconcile.ActionPrune {
			skipped = append(skipped, reconcile.Outcome{Change: c, Reason: "left Git; not pruned without --prune"})
			continue
		}
		kept.Changes = append(kept.Changes, c)
	}
	res, err := g.Target.Apply(ctx, kept)
	res.Outcomes = append(res.Outcomes, skipped...)
	return res, err
}

type applyFlags struct {
	applyClusterFlags
	wait    bool
	timeout time.Duration
	output  string
}

// applyReport is apply's -o json document: the reconcile as the agent's
// /status reports an attempt, and with --wait the Jobs' health.
type applyReport struct {
	*agent.AttemptReport
	Wait []cluster.ObjectHealth `json:"wait,omitempty"`
}

func newApplyCmd(s streams) *cobra.Command {
	var f applyFlags
	c := &cobra.Command{
		Use:   "apply PATH",
		Short: "Validate a directory and apply it to a cluster once (server-side apply)",
		Long: `apply renders PATH (kustomize or plain YAML), validates every object, and when
nothing has an error applies the result to the cluster with server-side apply
(field manager "jobsync"), in stages: namespaces and config first, CronJobs and
Jobs last. A Job whose template changed is recreated as its jobsync.io/on-change
annotation says. Objects that left PATH are pruned only with --prune.

Exit codes: 0 applied (and, with --wait, every Job succeeded); 1 validation
errors, apply errors, a failed Job or the --timeout passed; 2 usage, a tree or
.jobsync.yaml that cannot be read, or connection problems.`,
		Example: `  jobsync apply ./deploy/overlays/prod --kubeconfig ~/.kube/config -n batch
  jobsync apply . --prune --wait --timeout 10m
  # the outcome as JSON (the agent's /status form of an attempt)
  jobsync apply . -o json | jq '.objects[] | select(.error)'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runApply(ctx, s, args[0], f)
		},
	}
	f.register(c)
	c.Flags().BoolVar(&f.wait, "wait", false, "wait for the Jobs this revision applied to finish")
	c.Flags().DurationVar(&f.timeout, "timeout", 5*time.Minute, "how long --wait waits")
	c.Flags().StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	return c
}

func runApply(ctx context.Context, s streams, path string, f applyFlags) error {
	if f.output != "text" && f.output != "json" {
		return withCode(exitUsage, fmt.Errorf("-o %q: use text or json", f.output))
	}
	if _, err := os.Stat(path); err != nil {
		return withCode(exitUsage, err)
	}
	tgt, ns, err := f.open()
	if err != nil {
		return withCode(exitUsage, err)
	}
	loop, err := f.loop(path, ns, pruneGate{Target: tgt, prune: f.prune})
	if err != nil {
		return withCode(exitUsage, err)
	}
	a := loop.Once(ctx)
	if f.output == "text" {
		// Before any wait: what was applied shows at once.
		printApplyFindings(s.out, a)
		printApplyOutcomes(s.out, a.Result)
		if a.Err == nil {
			fmt.Fprintf(s.out, "applied %s: %s\n", a.Revision, countApplyOutcomes(a.ChangeSet, a.Result))
		}
	}
	hs, err := waitApplied(ctx, tgt, a, f)
	if f.output == "json" {
		enc := json.NewEncoder(s.out)
		enc.SetIndent("", "  ")
		if a.Err != nil {
			err = withCode(attemptCode(a), nil) // the document says why, once
		}
		return errors.Join(enc.Encode(applyReport{AttemptReport: agent.AttemptReportOf(&a), Wait: hs}), err)
	}
	for _, h := range hs {
		fmt.Fprintf(s.out, "%s\t%s\t%s\n", h.Ref, h.State, h.Reason)
	}
	return err
}

// attemptCode is the exit code of a failed attempt: 1 for what the revision
// itself makes fail (validation errors, a plan it cannot make, objects the
// API server refuses), 2 for what kept it from being judged (reading the
// tree, its .jobsync.yaml, reaching the cluster's inventory).
func attemptCode(a reconcile.Attempt) int {
	if _, ok := errors.AsType[*gate.ConfigError](a.Err); ok {
		return exitUsage
	}
	switch {
	case errors.Is(a.Err, reconcile.ErrRejected):
		return exitFindings
	case errors.Is(a.Err, reconcile.ErrInventory), a.Stage == "fetch", a.Stage == "render":
		return exitUsage
	}
	return exitFindings
}

// waitApplied returns the attempt's error with its exit code, or, with
// --wait, waits for the Jobs it applied and returns their health.
func waitApplied(ctx context.Context, tgt *cluster.Target, a reconcile.Attempt, f applyFlags) ([]cluster.ObjectHealth, error) {
	if a.Err != nil {
		return nil, withCode(attemptCode(a), fmt.Errorf("%s: %w", a.Stage, a.Err))
	}
	if !f.wait {
		return nil, nil
	}
	hs, err := tgt.Wait(ctx, a.Revision, f.timeout)
	if errors.Is(err, cluster.ErrJobFailed) || errors.Is(err, cluster.ErrWaitTimeout) {
		return hs, withCode(exitFindings, err)
	}
	if err != nil {
		return hs, withCode(exitUsage, err)
	}
	return hs, nil
}

// printApplyFindings prints the errors of a rejected revision as validate
// prints them (file:line: error: Kind/namespace/name: field: message [rule]).
func printApplyFindings(w io.Writer, a reconcile.Attempt) {
	_ = report.WriteTextErrors(w, a.Findings)
}

// printApplyOutcomes prints every outcome that did something, failed or waits.
func printApplyOutcomes(w io.Writer, res reconcile.ApplyResult) {
	drift := map[string]bool{}
	for _, r := range res.Drift {
		drift[r.Key()] = true
	}
	for _, o := range res.Outcomes {
		c := o.Change
		switch {
		case o.Err != "":
			fmt.Fprintf(w, "%s %s: error: %s\n", c.Ref, c.Action, o.Err)
		case drift[c.Ref.Key()]:
			fmt.Fprintf(w, "%s drift: %s\n", c.Ref, o.Reason)
		case !o.Done:
			fmt.Fprintf(w, "%s %s: pending: %s\n", c.Ref, c.Action, o.Reason)
		case c.Action != reconcile.ActionUnchanged || o.Reason != "":
			fmt.Fprintf(w, "%s %s: %s\n", c.Ref, c.Action, o.Reason)
		}
	}
}

// countApplyOutcomes summarises a change set: "2 create, 1 prune, 10 unchanged, 1 drift".
func countApplyOutcomes(cs reconcile.ChangeSet, res reconcile.ApplyResult) string {
	n := map[reconcile.Action]int{}
	for _, c := range cs.Changes {
		n[c.Action]++
	}
	var keys []string
	for a := range n {
		keys = append(keys, string(a))
	}
	sort.Strings(keys)
	out := ""
	for _, k := range keys {
		out += fmt.Sprintf("%d %s, ", n[reconcile.Action(k)], k)
	}
	return fmt.Sprintf("%s%d drift", out, len(res.Drift))
}
