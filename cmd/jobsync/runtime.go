package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/jobsync/jobsync/agent"
)

// defaultStateDir is where the agent keeps its state unless told otherwise.
const defaultStateDir = ".jobsync"

// runtimeReader is what get and logs read: the running agent's API, or the
// stopped agent's state file.
type runtimeReader interface {
	CronJobs(ctx context.Context) ([]batchv1.CronJob, error)
	Jobs(ctx context.Context) ([]batchv1.Job, error)
	Pods(ctx context.Context) ([]corev1.Pod, error)
	LogPaths(ctx context.Context, namespace, pod string) (map[string]string, error)
}

// openRuntime returns the running agent's client when one answers on the
// state directory's socket, else a read-only view of its state file.
func openRuntime(ctx context.Context, stateDir string) (runtimeReader, func(), error) {
	c := agent.NewClient(filepath.Join(stateDir, agent.SocketName))
	_, err := c.Status(ctx)
	if err == nil {
		return c, func() {}, nil
	}
	if !errors.Is(err, agent.ErrNotRunning) {
		return nil, nil, err
	}
	if _, serr := os.Stat(stateDir); serr != nil {
		return nil, nil, fmt.Errorf("state directory %s: %w (start the agent with `jobsync agent --state-dir %s`)", stateDir, serr, stateDir)
	}
	return openStateFile(stateDir)
}

// runningAgent returns the client of the agent running on stateDir, or an
// error that says how to start one.
func runningAgent(ctx context.Context, stateDir string) (*agent.Client, error) {
	c := agent.NewClient(filepath.Join(stateDir, agent.SocketName))
	if _, err := c.Status(ctx); err != nil {
		if errors.Is(err, agent.ErrNotRunning) {
			return nil, fmt.Errorf("%w in %s: start it with `jobsync agent --state-dir %s ...`", agent.ErrNotRunning, stateDir, stateDir)
		}
		return nil, err
	}
	return c, nil
}
