package agent

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/jobsync/jobsync/fleet"
)

// fleetRoutes serves Options.Fleet:
//
//	GET /v1/fleet/cronjobs                   every CronJob with its health
//	GET /v1/fleet/cronjobs/{namespace}/{name} one (404 when unknown)
//	GET /v1/fleet/runs/{namespace}/{name}     its ledger, newest first (?limit=N)
func (a *Agent) fleetRoutes(mux *http.ServeMux) {
	v := a.opts.Fleet
	mux.HandleFunc("GET /v1/fleet/cronjobs", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, v.CronJobs()) })
	mux.HandleFunc("GET /v1/fleet/cronjobs/{namespace}/{name}", func(w http.ResponseWriter, r *http.Request) {
		c, ok := v.CronJob(r.PathValue("namespace"), r.PathValue("name"))
		if !ok {
			writeError(w, fmt.Errorf("CronJob/%s/%s: %w", r.PathValue("namespace"), r.PathValue("name"), ErrNotFound))
			return
		}
		writeJSON(w, c)
	})
	mux.HandleFunc("GET /v1/fleet/runs/{namespace}/{name}", func(w http.ResponseWriter, r *http.Request) {
		limit := 0
		if s := r.URL.Query().Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 0 {
				http.Error(w, "limit: want a number >= 0", http.StatusBadRequest)
				return
			}
			limit = n
		}
		writeJSON(w, v.Runs(r.PathValue("namespace"), r.PathValue("name"), limit))
	})
}

// FleetCronJobs lists every CronJob with its health.
func (c *Client) FleetCronJobs(ctx context.Context) ([]fleet.CronJob, error) {
	var out []fleet.CronJob
	return out, c.do(ctx, http.MethodGet, "/v1/fleet/cronjobs", http.StatusOK, &out)
}

// FleetRuns returns a CronJob's ledger, newest first (limit <= 0: all).
func (c *Client) FleetRuns(ctx context.Context, namespace, name string, limit int) ([]fleet.Run, error) {
	var out []fleet.Run
	p := "/v1/fleet/runs/" + url.PathEscape(namespace) + "/" + url.PathEscape(name) + "?limit=" + strconv.Itoa(limit)
	return out, c.do(ctx, http.MethodGet, p, http.StatusOK, &out)
}
