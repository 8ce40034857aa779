package agent

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// Runtime is the embedded target's query and command side.
type Runtime interface {
	CronJobs() []batchv1.CronJob
	Jobs() []batchv1.Job
	Pods() []corev1.Pod
	// Trigger creates a Job from a CronJob now (kubectl create job --from=cronjob/x).
	Trigger(namespace, cronjob string) (*batchv1.Job, error)
	// Suspend sets a CronJob's spec.suspend.
	Suspend(namespace, cronjob string, suspend bool) error
	// LogPaths returns the log file of each container of a pod.
	LogPaths(namespace, pod string) (map[string]string, error)
}

// ErrNotFound is what a Runtime returns (wrapped) for an unknown object; the
// API answers 404.
var ErrNotFound = errors.New("not found")

// routes is the whole API, as served on the socket.
func (a *Agent) routes() http.Handler {
	mux := http.NewServeMux()
	a.publicRoutes(mux)
	a.controlRoutes(mux)
	return mux
}

// publicRoutes are served on the socket and on Listen: health, metrics,
// status and the signed webhooks; nothing here changes the agent's state
// but a webhook's reconcile.
func (a *Agent) publicRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", a.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.opts.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Has("pretty") {
			writeIndentedJSON(w, a.statusReport())
			return
		}
		writeJSON(w, a.statusReport())
	})
	if a.opts.Webhook != nil {
		mux.Handle("POST /hooks/{kind}", newWebhook(*a.opts.Webhook, a.Reconcile))
	}
}

// controlRoutes are the control API, under /v1/ (controlPrefix): served on
// the socket, and on Listen only behind Options.ControlToken.
func (a *Agent) controlRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/reconcile", func(w http.ResponseWriter, _ *http.Request) {
		a.Reconcile()
		w.WriteHeader(http.StatusAccepted)
	})
	if a.opts.Fleet != nil {
		a.fleetRoutes(mux)
	}
	if rt := a.opts.Runtime; rt != nil {
		mux.HandleFunc("GET /v1/cronjobs", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, rt.CronJobs()) })
		mux.HandleFunc("GET /v1/jobs", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, rt.Jobs()) })
		mux.HandleFunc("GET /v1/pods", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, rt.Pods()) })
		mux.HandleFunc("GET /v1/logs/{namespace}/{pod}", a.logPaths)
		mux.HandleFunc("POST /v1/cronjobs/{namespace}/{name}/trigger", a.triggerCronJob)
		mux.HandleFunc("POST /v1/cronjobs/{namespace}/{name}/suspend", a.suspendCronJob(true))
		mux.HandleFunc("POST /v1/cronjobs/{namespace}/{name}/resume", a.suspendCronJob(false))
	}
}

func (a *Agent) readyz(w http.ResponseWriter, _ *http.Request) {
	if a.opts.LeaderElection != nil && !a.Leading() {
		io.WriteString(w, "ok (standby: another replica holds the lease)\n")
		return
	}
	if !a.Ready() {
		http.Error(w, "no revision applied yet", http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, "ok\n")
}

func (a *Agent) logPaths(w http.ResponseWriter, r *http.Request) {
	paths, err := a.opts.Runtime.LogPaths(r.PathValue("namespace"), r.PathValue("pod"))
	if err != nil {
		writeError(w, err)
		return
	}
	writeJSON(w, paths)
}

func (a *Agent) triggerCronJob(w http.ResponseWriter, r *http.Request) {
	job, err := a.opts.Runtime.Trigger(r.PathValue("namespace"), r.PathValue("name"))
	if err != nil {
		writeError(w, err)
		return
	}
	w.WriteHeader(http.StatusCreated)
	writeJSON(w, job)
}

func (a *Agent) suspendCronJob(suspend bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := a.opts.Runtime.Suspend(r.PathValue("namespace"), r.PathValue("name"), suspend); err != nil {
			writeError(w, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// writeJSON writes v as compact JSON: with 10,000 objects, indenting
// doubles the memory and time a /status takes (jq or ?pretty for people).
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to tell it
}

func writeIndentedJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	if errors.Is(err, ErrNotFound) || errors.Is(err, os.ErrNotExist) {
		code = http.StatusNotFound
	}
	http.Error(w, err.Error(), code)
}
