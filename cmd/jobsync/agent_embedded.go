package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/jobsync/jobsync/agent"
	"github.com/jobsync/jobsync/fleet"
	"github.com/jobsync/jobsync/ledger"
	"github.com/jobsync/jobsync/reconcile/embedded"
	"github.com/jobsync/jobsync/reconcile/embedded/podexec"
)

// agentEmbeddedFlags are the embedded target's own settings.
type agentEmbeddedFlags struct {
	runAsUser string
}

func (e *agentEmbeddedFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&e.runAsUser, "run-as-user", "65534:65534", "embedded target, agent run as root: UID[:GID] of containers whose securityContext names no runAsUser/runAsGroup (0 keeps root)")
}

// parseRunAsUser reads --run-as-user: UID or UID:GID (GID defaults to UID).
func parseRunAsUser(s string) (uid, gid int64, err error) {
	u, g, hasGID := strings.Cut(s, ":")
	if uid, err = strconv.ParseInt(u, 10, 32); err == nil && hasGID {
		gid, err = strconv.ParseInt(g, 10, 32)
	} else {
		gid = uid
	}
	if err != nil || uid < 0 || gid < 0 {
		return 0, 0, fmt.Errorf("--run-as-user %q: want UID or UID:GID, numbers (65534:65534 is nobody)", s)
	}
	return uid, gid, nil
}

// openEmbeddedTarget opens the store in --state-dir and the local executor.
func openEmbeddedTarget(_ context.Context, f agentFlags, log *slog.Logger, why string) (*openedTarget, error) {
	xo := podexec.DefaultOptions()
	xo.LogDir = filepath.Join(f.stateDir, "logs")
	xo.BaseEnv = baseEnv()
	xo.OnImage = func(image string) {
		log.Info("images are not pulled: containers run as local processes on this host", "image", image)
	}
	var err error
	if xo.RunAsUser, xo.RunAsGroup, err = parseRunAsUser(f.embedded.runAsUser); err != nil {
		return nil, withCode(exitUsage, err)
	}
	x, err := podexec.New(xo)
	if err != nil {
		return nil, err
	}
	is := x.Isolation()
	log.Info("containers are confined", "user", is.User, "workDir", is.WorkDir, "cgroup", is.Cgroup, "noCgroup", is.NoCgroup,
		"treeKill", is.TreeKill, "memory", is.Memory, "cpu", is.CPU, "pids", is.Pids)
	eo := embedded.DefaultOptions()
	eo.StateDir, eo.Runner, eo.LogPath = f.stateDir, x, x.LogPath
	runMetrics := agent.NewRunMetrics()
	var e *embedded.Engine
	af, err := openAgentFleet(f.stateDir, f.fleet, func() []ledger.Spec { return embeddedSpecs(e)() }, log)
	if err != nil {
		_ = x.Close()
		if errors.Is(err, ledger.ErrLocked) {
			return nil, fmt.Errorf("state directory %s is in use by another agent: %w", f.stateDir, err)
		}
		return nil, err
	}
	eo.Observer = embeddedObserver{RunMetrics: runMetrics, rec: af.rec}
	e, err = embedded.New(eo)
	if err != nil {
		af.close()
		_ = x.Close()
		if errors.Is(err, embedded.ErrLocked) {
			return nil, fmt.Errorf("state directory %s is in use by another agent: %w", f.stateDir, err)
		}
		return nil, err
	}
	done := make(chan struct{})
	ot := &openedTarget{name: "embedded", why: why, namespace: orDefault(f.namespace, "default"), target: e.Target(), runtime: engineRuntime{e},
		collectors: append(runMetrics.Collectors(), af.metrics, af.rec.Collector()), fleet: af}
	ot.start = func(ctx context.Context) error {
		go func() {
			defer close(done)
			if err := e.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
				log.Error("embedded controllers stopped", "err", err)
			}
		}()
		return nil
	}
	ot.close = func() {
		if err := e.Close(); err != nil {
			log.Error("closing the embedded store", "err", err)
		}
		if err := x.Close(); err != nil {
			log.Error("removing the pods' working directories", "err", err)
		}
		af.close()
	}
	return ot, nil
}

// baseEnv is what every local container process starts with: the agent's
// PATH and HOME, nothing secret.
func baseEnv() []string {
	env := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	if p, ok := os.LookupEnv("PATH"); ok {
		env[0] = "PATH=" + p
	}
	if h, ok := os.LookupEnv("HOME"); ok {
		env = append(env, "HOME="+h)
	}
	return env
}

// engineRuntime adapts the engine to the agent's API.
type engineRuntime struct{ e *embedded.Engine }

var _ agent.Runtime = engineRuntime{}

func (r engineRuntime) CronJobs() []batchv1.CronJob { return r.e.ListCronJobs() }
func (r engineRuntime) Jobs() []batchv1.Job         { return r.e.ListJobs() }
func (r engineRuntime) Pods() []corev1.Pod          { return r.e.ListPods() }
func (r engineRuntime) Trigger(ns, name string) (*batchv1.Job, error) {
	return r.e.Trigger(ns, name)
}
func (r engineRuntime) Suspend(ns, name string, s bool) error { return r.e.Suspend(ns, name, s) }
func (r engineRuntime) LogPaths(ns, pod string) (map[string]string, error) {
	return r.e.LogPaths(ns, pod)
}

// storeReader reads a stopped agent's state: its store and run ledger.
type storeReader struct {
	e *embedded.Engine
	l *ledger.Ledger
}

// FleetCronJobs is every CronJob with its health, from the ledger.
func (r storeReader) FleetCronJobs(context.Context) ([]fleet.CronJob, error) {
	if r.l == nil {
		return nil, nil
	}
	return ledger.NewView(r.l, embeddedSpecs(r.e), nil).CronJobs(), nil
}

// FleetRuns is a CronJob's ledger, newest first.
func (r storeReader) FleetRuns(_ context.Context, ns, name string, limit int) ([]fleet.Run, error) {
	if r.l == nil {
		return nil, nil
	}
	return r.l.Runs(ns, name, limit), nil
}

func (r storeReader) CronJobs(context.Context) ([]batchv1.CronJob, error) {
	return r.e.ListCronJobs(), nil
}
func (r storeReader) Jobs(context.Context) ([]batchv1.Job, error) { return r.e.ListJobs(), nil }
func (r storeReader) Pods(context.Context) ([]corev1.Pod, error)  { return r.e.ListPods(), nil }
func (r storeReader) LogPaths(_ context.Context, ns, pod string) (map[string]string, error) {
	return r.e.LogPaths(ns, pod)
}

// openStateFile opens a stopped agent's state read-only.
func openStateFile(stateDir string) (runtimeReader, func(), error) {
	eo := embedded.DefaultOptions()
	eo.StateDir, eo.ReadOnly = stateDir, true
	logDir := filepath.Join(stateDir, "logs")
	eo.LogPath = func(ns, pod, c string) string { return filepath.Join(logDir, ns, pod, c+".log") }
	e, err := embedded.New(eo)
	if err != nil {
		return nil, nil, fmt.Errorf("state in %s: %w", stateDir, err)
	}
	lo := ledger.DefaultOptions()
	lo.StateDir, lo.ReadOnly = stateDir, true
	if _, serr := os.Stat(filepath.Join(stateDir, ledger.LedgerFile)); serr != nil {
		return storeReader{e: e}, func() { e.Close() }, nil // no ledger yet (an older agent)
	}
	l, err := ledger.Open(lo)
	if err != nil {
		e.Close()
		return nil, nil, fmt.Errorf("state in %s: %w", stateDir, err)
	}
	return storeReader{e, l}, func() { l.Close(); e.Close() }, nil
}
