package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/yaml"

	"github.com/jobsync/jobsync/fleet"
)

// getFlags are shared by get, logs, trigger, suspend and resume.
type getFlags struct {
	stateDir      string
	namespace     string
	allNamespaces bool
	output        string
}

func newGetCmd(s streams) *cobra.Command {
	var f getFlags
	c := &cobra.Command{
		Use:   "get cronjobs|jobs|pods [NAME]",
		Short: "List the embedded target's CronJobs, Jobs or pods, like kubectl get",
		Long: `get lists what the embedded target runs. It asks the running agent over its
unix socket in --state-dir, or reads the state file when the agent is stopped.`,
		Example: `  jobsync get cronjobs --state-dir .run/state
  jobsync get jobs -A
  jobsync get pods -n batch -o yaml`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, err := resourceKind(args[0])
			if err != nil {
				return withCode(exitUsage, err)
			}
			name := ""
			if len(args) == 2 {
				name = args[1]
			}
			rt, closeRT, err := openRuntime(cmd.Context(), f.stateDir)
			if err != nil {
				return withCode(exitUsage, err)
			}
			defer closeRT()
			return runGet(cmd.Context(), s.out, rt, kind, name, f, time.Now())
		},
	}
	addStateFlags(c, &f)
	c.Flags().StringVarP(&f.output, "output", "o", "", "output format: '' (table), wide, json, yaml, name")
	return c
}

func addStateFlags(c *cobra.Command, f *getFlags) {
	c.Flags().StringVar(&f.stateDir, "state-dir", defaultStateDir, "the agent's state directory")
	c.Flags().StringVarP(&f.namespace, "namespace", "n", "", "only this namespace (default: every namespace)")
	c.Flags().BoolVarP(&f.allNamespaces, "all-namespaces", "A", false, "every namespace (the default; for kubectl users)")
}

// resourceKind accepts kubectl's names and short names.
func resourceKind(s string) (string, error) {
	switch strings.ToLower(s) {
	case "cronjob", "cronjobs", "cj", "cronjob.batch", "cronjobs.batch":
		return "cronjobs", nil
	case "job", "jobs", "job.batch", "jobs.batch":
		return "jobs", nil
	case "pod", "pods", "po":
		return "pods", nil
	}
	return "", fmt.Errorf("unknown resource %q: use cronjobs, jobs or pods", s)
}

func runGet(ctx context.Context, w io.Writer, rt runtimeReader, kind, name string, f getFlags, now time.Time) error {
	var items []any
	var table func(io.Writer, bool, time.Time)
	switch kind {
	case "cronjobs":
		l, err := rt.CronJobs(ctx)
		if err != nil {
			return err
		}
		l = filterMeta(l, func(c batchv1.CronJob) metav1.ObjectMeta { return c.ObjectMeta }, f.namespace, name)
		items = toAny(l)
		health := fleetIndex(ctx, rt)
		table = func(w io.Writer, ns bool, now time.Time) { printCronJobs(w, l, health, ns, f.output == "wide", now) }
	case "jobs":
		l, err := rt.Jobs(ctx)
		if err != nil {
			return err
		}
		l = filterMeta(l, func(j batchv1.Job) metav1.ObjectMeta { return j.ObjectMeta }, f.namespace, name)
		items = toAny(l)
		table = func(w io.Writer, ns bool, now time.Time) { printJobs(w, l, ns, f.output == "wide", now) }
	default:
		l, err := rt.Pods(ctx)
		if err != nil {
			return err
		}
		l = filterMeta(l, func(p corev1.Pod) metav1.ObjectMeta { return p.ObjectMeta }, f.namespace, name)
		items = toAny(l)
		table = func(w io.Writer, ns bool, now time.Time) { printPods(w, l, ns, now) }
	}
	if name != "" && len(items) == 0 {
		return withCode(exitFindings, fmt.Errorf("%s %q not found", strings.TrimSuffix(kind, "s"), name))
	}
	return printItems(w, items, f.output, kind, f.namespace == "", table, now)
}

func printItems(w io.Writer, items []any, output, kind string, showNS bool, table func(io.Writer, bool, time.Time), now time.Time) error {
	switch output {
	case "json":
		b, err := json.MarshalIndent(map[string]any{"apiVersion": "v1", "kind": "List", "items": items}, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	case "yaml":
		b, err := yaml.Marshal(map[string]any{"apiVersion": "v1", "kind": "List", "items": items})
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	case "name":
		for _, it := range items {
			if m, ok := it.(metav1.Object); ok {
				fmt.Fprintf(w, "%s/%s\n", strings.TrimSuffix(kind, "s"), m.GetName())
			}
		}
		return nil
	case "", "wide":
		if len(items) == 0 {
			fmt.Fprintf(w, "No %s found.\n", kind)
			return nil
		}
		table(w, showNS, now)
		return nil
	}
	return withCode(exitUsage, fmt.Errorf("unknown output format %q: use wide, json, yaml or name", output))
}

func filterMeta[T any](l []T, meta func(T) metav1.ObjectMeta, ns, name string) []T {
	out := l[:0:0]
	for _, it := range l {
		m := meta(it)
		if (ns == "" || m.Namespace == ns) && (name == "" || m.Name == name) {
			out = append(out, it)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := meta(out[i]), meta(out[j])
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	return out
}

func toAny[T any](l []T) []any {
	out := make([]any, len(l))
	for i := range l {
		out[i] = &l[i]
	}
	return out
}

func newTab(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 8, 3, ' ', 0) }

func age(t metav1.Time, now time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

func ago(t *metav1.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return "<none>"
	}
	return duration.HumanDuration(now.Sub(t.Time))
}

// printCronJobs prints kubectl's columns, then the run ledger's (health
// indexes fleet CronJobs by "namespace/name").
func printCronJobs(w io.Writer, l []batchv1.CronJob, health map[string]fleet.CronJob, showNS, wide bool, now time.Time) {
	tw := newTab(w)
	defer tw.Flush()
	head := "NAME\tSCHEDULE\tTIMEZONE\tSUSPEND\tACTIVE\tLAST-SCHEDULE\tAGE\tLAST-RESULT\tLAST-SUCCESS\tNEXT\tHEALTH"
	if wide {
		head += "\tCONTAINERS\tIMAGES"
	}
	fmt.Fprintln(tw, nsCol(showNS, "NAMESPACE\t")+head)
	for _, c := range l {
		tz := "<none>"
		if c.Spec.TimeZone != nil {
			tz = *c.Spec.TimeZone
		}
		suspend := "False" // as kubectl prints it
		if c.Spec.Suspend != nil && *c.Spec.Suspend {
			suspend = "True"
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\t%d\t%s\t%s", nsCol(showNS, c.Namespace+"\t"), c.Name, c.Spec.Schedule, tz,
			suspend, len(c.Status.Active), ago(c.Status.LastScheduleTime, now), age(c.CreationTimestamp, now))
		fmt.Fprintf(tw, "\t%s", fleetCols(health, c.Namespace, c.Name, now))
		if wide {
			names, images := containerCols(c.Spec.JobTemplate.Spec.Template.Spec.Containers)
			fmt.Fprintf(tw, "\t%s\t%s", names, images)
		}
		fmt.Fprintln(tw)
	}
}

func printJobs(w io.Writer, l []batchv1.Job, showNS, wide bool, now time.Time) {
	tw := newTab(w)
	defer tw.Flush()
	head := "NAME\tSTATUS\tCOMPLETIONS\tDURATION\tAGE"
	if wide {
		head += "\tCONTAINERS\tIMAGES"
	}
	fmt.Fprintln(tw, nsCol(showNS, "NAMESPACE\t")+head)
	for _, j := range l {
		completions := "n/a"
		if j.Spec.Completions != nil {
			completions = fmt.Sprintf("%d/%d", j.Status.Succeeded, *j.Spec.Completions)
		} else {
			completions = fmt.Sprintf("%d/1 of %d", j.Status.Succeeded, ptrOr(j.Spec.Parallelism, 1))
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\t%s", nsCol(showNS, j.Namespace+"\t"), j.Name, jobStatus(j), completions,
			jobDuration(j, now), age(j.CreationTimestamp, now))
		if wide {
			names, images := containerCols(j.Spec.Template.Spec.Containers)
			fmt.Fprintf(tw, "\t%s\t%s", names, images)
		}
		fmt.Fprintln(tw)
	}
}

// jobStatus is kubectl's STATUS column for a Job.
func jobStatus(j batchv1.Job) string {
	for _, c := range j.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			return "Complete"
		case batchv1.JobFailed:
			return "Failed"
		case batchv1.JobSuspended:
			return "Suspended"
		}
	}
	for _, c := range j.Status.Conditions {
		if c.Status == corev1.ConditionTrue && c.Type == batchv1.JobFailureTarget {
			return "FailureTarget"
		}
	}
	return "Running"
}

func jobDuration(j batchv1.Job, now time.Time) string {
	if j.Status.StartTime == nil {
		return ""
	}
	end := now
	if j.Status.CompletionTime != nil {
		end = j.Status.CompletionTime.Time
	}
	return duration.HumanDuration(end.Sub(j.Status.StartTime.Time))
}

func printPods(w io.Writer, l []corev1.Pod, showNS bool, now time.Time) {
	tw := newTab(w)
	defer tw.Flush()
	fmt.Fprintln(tw, nsCol(showNS, "NAMESPACE\t")+"NAME\tREADY\tSTATUS\tRESTARTS\tAGE")
	for _, p := range l {
		ready, restarts := 0, int32(0)
		for _, cs := range p.Status.ContainerStatuses {
			if cs.Ready {
				ready++
			}
			restarts += cs.RestartCount
		}
		fmt.Fprintf(tw, "%s%s\t%d/%d\t%s\t%d\t%s\n", nsCol(showNS, p.Namespace+"\t"), p.Name, ready,
			len(p.Spec.Containers), podStatus(p), restarts, age(p.CreationTimestamp, now))
	}
}

// podStatus is kubectl's STATUS column: a waiting/terminated reason when
// there is one, else the phase.
func podStatus(p corev1.Pod) string {
	for _, cs := range p.Status.ContainerStatuses {
		if t := cs.State.Terminated; t != nil && t.Reason != "" && p.Status.Phase == corev1.PodFailed {
			return t.Reason
		}
		if wt := cs.State.Waiting; wt != nil && wt.Reason != "" {
			return wt.Reason
		}
	}
	if p.Status.Reason != "" {
		return p.Status.Reason
	}
	if p.Status.Phase == corev1.PodSucceeded {
		return "Completed"
	}
	if p.Status.Phase == "" {
		return "Pending"
	}
	return string(p.Status.Phase)
}

func containerCols(cs []corev1.Container) (string, string) {
	var names, images []string
	for _, c := range cs {
		names = append(names, c.Name)
		images = append(images, c.Image)
	}
	return strings.Join(names, ","), strings.Join(images, ",")
}

func nsCol(show bool, s string) string {
	if show {
		return s
	}
	return ""
}

func ptrOr(p *int32, d int32) int32 {
	if p == nil {
		return d
	}
	return *p
}
