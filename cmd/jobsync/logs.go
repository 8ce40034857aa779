package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

func newLogsCmd(s streams) *cobra.Command {
	var f getFlags
	var container string
	c := &cobra.Command{
		Use:   "logs JOB|POD|job/NAME|pod/NAME",
		Short: "Print the output of a Job's pods or of one pod (embedded target)",
		Long: `logs prints what the containers of a pod wrote to stdout and stderr. Given a
Job, it prints the logs of each of its pods in creation order, each under a
header line.`,
		Example: `  jobsync logs heartbeat-29398800 --state-dir .run/state
  jobsync logs pod/heartbeat-29398800-x7k2p -c main`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			rt, closeRT, err := openRuntime(cmd.Context(), f.stateDir)
			if err != nil {
				return withCode(exitUsage, err)
			}
			defer closeRT()
			return runLogs(cmd.Context(), s.out, rt, args[0], f.namespace, container)
		},
	}
	addStateFlags(c, &f)
	c.Flags().StringVarP(&container, "container", "c", "", "only this container")
	return c
}

func runLogs(ctx context.Context, w io.Writer, rt runtimeReader, arg, ns, container string) error {
	kind, name, _ := strings.Cut(arg, "/")
	if name == "" {
		kind, name = "", arg
	}
	pods, err := rt.Pods(ctx)
	if err != nil {
		return err
	}
	var selected []corev1.Pod
	for _, p := range pods {
		if ns != "" && p.Namespace != ns {
			continue
		}
		isPod := p.Name == name && (kind == "" || kind == "pod" || kind == "pods")
		isJob := p.Labels[batchv1.JobNameLabel] == name && (kind == "" || kind == "job" || kind == "jobs")
		if isPod || isJob {
			selected = append(selected, p)
		}
	}
	if len(selected) == 0 {
		return withCode(exitFindings, fmt.Errorf("no Job or pod named %q (see `jobsync get jobs` and `jobsync get pods`)", name))
	}
	sort.SliceStable(selected, func(i, j int) bool {
		return selected[i].CreationTimestamp.Before(&selected[j].CreationTimestamp)
	})
	for _, p := range selected {
		paths, err := rt.LogPaths(ctx, p.Namespace, p.Name)
		if err != nil {
			return err
		}
		if err := printPodLogs(w, p, paths, container, len(selected) > 1); err != nil {
			return err
		}
	}
	return nil
}

func printPodLogs(w io.Writer, p corev1.Pod, paths map[string]string, container string, header bool) error {
	var names []string
	for _, c := range append(append([]corev1.Container{}, p.Spec.InitContainers...), p.Spec.Containers...) {
		if container == "" || c.Name == container {
			names = append(names, c.Name)
		}
	}
	if container != "" && len(names) == 0 {
		return withCode(exitFindings, fmt.Errorf("pod %s has no container %q", p.Name, container))
	}
	for _, c := range names {
		if header || len(names) > 1 {
			fmt.Fprintf(w, "==> pod/%s container %s <==\n", p.Name, c)
		}
		path, ok := paths[c]
		if !ok {
			continue
		}
		f, err := os.Open(path)
		if os.IsNotExist(err) {
			continue // not started yet
		}
		if err != nil {
			return err
		}
		_, err = io.Copy(w, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
