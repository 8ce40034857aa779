package agent

import (
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jobsync/jobsync/fleet"
)

// healthStates are the values of jobsync_cronjob_health's state label.
var healthStates = []fleet.State{fleet.StateHealthy, fleet.StateLate, fleet.StateMissed, fleet.StateFailing, fleet.StateSuspended}

// FleetMetrics are the CronJobs' health and run metrics, for either target:
// gauges read from a fleet.View at scrape time (last success and failure,
// next schedule in the CronJob's zone, health), counters and histograms
// fed by the RunRecorder (runs by result, duration, skew) and the
// HealthMonitor (missed runs by reason). Register it on the agent's Registry.
type FleetMetrics struct {
	view     fleet.View
	runs     *prometheus.CounterVec
	missed   *prometheus.CounterVec
	duration prometheus.Histogram
	skew     prometheus.Histogram

	lastSuccess, lastFailure, next, health *prometheus.Desc
}

// NewFleetMetrics returns the metrics of view (nil: only the counters).
func NewFleetMetrics(view fleet.View) *FleetMetrics {
	cj := []string{"namespace", "cronjob"}
	return &FleetMetrics{
		view: view,
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jobsync_cronjob_runs_total",
			Help: "Finished runs of each CronJob, by result (succeeded, failed)."}, append(cj, "result")),
		missed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "jobsync_cronjob_missed_total",
			Help: "Due times of each CronJob that got no run, by reason (DeadlinePassed, ForbidOverlap, Suspended, TooManyMissed, AgentDown)."}, append(cj, "reason")),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "jobsync_cronjob_run_duration_seconds",
			Help:    "Duration of finished CronJob runs, from Job creation to its final condition.",
			Buckets: []float64{1, 5, 15, 60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 24 * 3600}}),
		skew: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "jobsync_cronjob_schedule_skew_seconds",
			Help:    "Time from a CronJob run's due time to the creation of its Job.",
			Buckets: []float64{0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600}}),
		lastSuccess: prometheus.NewDesc("jobsync_cronjob_last_success_timestamp_seconds",
			"End of each CronJob's newest successful run (Unix seconds).", cj, nil),
		lastFailure: prometheus.NewDesc("jobsync_cronjob_last_failure_timestamp_seconds",
			"End of each CronJob's newest failed run (Unix seconds).", cj, nil),
		next: prometheus.NewDesc("jobsync_cronjob_next_schedule_timestamp_seconds",
			"Each CronJob's next due time in its spec.timeZone (Unix seconds); absent while suspended.", cj, nil),
		health: prometheus.NewDesc("jobsync_cronjob_health",
			"1 for each CronJob's current health state (Healthy, Late, Missed, Failing, Suspended), 0 for the others.", append(cj, "state"), nil),
	}
}

// Describe implements prometheus.Collector.
func (m *FleetMetrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range []prometheus.Collector{m.runs, m.missed, m.duration, m.skew} {
		c.Describe(ch)
	}
	for _, d := range []*prometheus.Desc{m.lastSuccess, m.lastFailure, m.next, m.health} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: the gauges come from the view now.
func (m *FleetMetrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range []prometheus.Collector{m.runs, m.missed, m.duration, m.skew} {
		c.Collect(ch)
	}
	if m.view == nil {
		return
	}
	for _, c := range m.view.CronJobs() {
		gauge := func(d *prometheus.Desc, v float64, extra ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, append([]string{c.Namespace, c.Name}, extra...)...)
		}
		if !c.LastSuccess.IsZero() {
			gauge(m.lastSuccess, unixSeconds(c.LastSuccess))
		}
		if !c.LastFailure.IsZero() {
			gauge(m.lastFailure, unixSeconds(c.LastFailure))
		}
		if !c.Next.IsZero() {
			gauge(m.next, unixSeconds(c.Next))
		}
		for _, s := range healthStates {
			v := 0.0
			if c.Health.State == s {
				v = 1
			}
			gauge(m.health, v, string(s))
		}
	}
}

// started observes a run's schedule skew.
func (m *FleetMetrics) started(r fleet.Run) {
	if m != nil && !r.Scheduled.IsZero() {
		m.skew.Observe(r.Skew().Seconds())
	}
}

// finished counts a finished run and observes its duration.
func (m *FleetMetrics) finished(r fleet.Run) {
	if m == nil || r.Result == fleet.ResultRunning {
		return
	}
	m.runs.WithLabelValues(r.Namespace, r.CronJob, strings.ToLower(string(r.Result))).Inc()
	m.duration.Observe(r.Duration().Seconds())
}

// missedRun counts a due time that got no run.
func (m *FleetMetrics) missedRun(ns, name, reason string) {
	if m != nil {
		m.missed.WithLabelValues(ns, name, reason).Inc()
	}
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
