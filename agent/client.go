package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// ErrNotRunning is returned by Client calls when no agent answers on the socket.
var ErrNotRunning = errors.New("no agent running on this state directory")

// Client talks to a running agent over its unix socket.
type Client struct {
	socket string
	http   *http.Client
}

// NewClient returns a client for the socket at path.
func NewClient(socket string) *Client {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", socket)
	}}
	return &Client{socket: socket, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// Status returns the agent's status.
func (c *Client) Status(ctx context.Context) (StatusReport, error) {
	var s StatusReport
	return s, c.do(ctx, http.MethodGet, "/status", http.StatusOK, &s)
}

// CronJobs lists the embedded CronJobs.
func (c *Client) CronJobs(ctx context.Context) ([]batchv1.CronJob, error) {
	var out []batchv1.CronJob
	return out, c.do(ctx, http.MethodGet, "/v1/cronjobs", http.StatusOK, &out)
}

// Jobs lists the embedded Jobs.
func (c *Client) Jobs(ctx context.Context) ([]batchv1.Job, error) {
	var out []batchv1.Job
	return out, c.do(ctx, http.MethodGet, "/v1/jobs", http.StatusOK, &out)
}

// Pods lists the embedded pods.
func (c *Client) Pods(ctx context.Context) ([]corev1.Pod, error) {
	var out []corev1.Pod
	return out, c.do(ctx, http.MethodGet, "/v1/pods", http.StatusOK, &out)
}

// LogPaths returns the log file of each container of a pod.
func (c *Client) LogPaths(ctx context.Context, namespace, pod string) (map[string]string, error) {
	var out map[string]string
	return out, c.do(ctx, http.MethodGet, "/v1/logs/"+namespace+"/"+pod, http.StatusOK, &out)
}

// Trigger creates a Job from a CronJob now.
func (c *Client) Trigger(ctx context.Context, namespace, cronjob string) (*batchv1.Job, error) {
	var job batchv1.Job
	return &job, c.do(ctx, http.MethodPost, "/v1/cronjobs/"+namespace+"/"+cronjob+"/trigger", http.StatusCreated, &job)
}

// Suspend suspends (or, with false, resumes) a CronJob.
func (c *Client) Suspend(ctx context.Context, namespace, cronjob string, suspend bool) error {
	verb := "resume"
	if suspend {
		verb = "suspend"
	}
	return c.do(ctx, http.MethodPost, "/v1/cronjobs/"+namespace+"/"+cronjob+"/"+verb, http.StatusNoContent, nil)
}

// Reconcile asks the agent to reconcile now.
func (c *Client) Reconcile(ctx context.Context) error {
	return c.do(ctx, http.MethodPost, "/v1/reconcile", http.StatusAccepted, nil)
}

func (c *Client) do(ctx context.Context, method, path string, want int, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, "http://agent"+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		var op *net.OpError
		switch {
		case errors.As(err, &op) && errors.Is(op.Err, os.ErrPermission):
			// The socket (0600) or the state directory (0700) is another
			// user's: an agent may well be running.
			return fmt.Errorf("agent socket %s: %w: it is another user's (the agent's); run this command as that user", c.socket, op.Err)
		case errors.As(err, &op):
			return fmt.Errorf("%w (%v)", ErrNotRunning, op.Err)
		}
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		text := strings.TrimSpace(string(msg))
		if resp.StatusCode == http.StatusNotFound {
			return fmt.Errorf("%w: %s", ErrNotFound, text)
		}
		return fmt.Errorf("agent: %s: %s", resp.Status, text)
	}
	if out == nil {
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("agent: decode %s: %w", path, err)
	}
	return nil
}
