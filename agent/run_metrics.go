package agent

import (
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// RunMetrics are the embedded target's own metrics: Job runs by result and
// how late CronJobs start their runs. Its JobScheduled and JobFinished
// methods make it an embedded.Observer; register Collectors() on the
// agent's Registry.
type RunMetrics struct {
	runs  *prometheus.CounterVec
	delay prometheus.Histogram
}

// NewRunMetrics returns unregistered run metrics.
func NewRunMetrics() *RunMetrics {
	return &RunMetrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jobsync_embedded_job_runs_total",
			Help: "Jobs the embedded target ran to the end, by result (complete, failed) and the condition's reason.",
		}, []string{"result", "reason"}),
		delay: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "jobsync_embedded_schedule_delay_seconds",
			Help:    "Time from a CronJob's scheduled time to the creation of its Job in the embedded target.",
			Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300},
		}),
	}
}

// Collectors returns the metrics to register.
func (m *RunMetrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.runs, m.delay}
}

// JobScheduled records the delay of one scheduled run.
func (m *RunMetrics) JobScheduled(_, _ string, scheduled, now time.Time) {
	m.delay.Observe(now.Sub(scheduled).Seconds())
}

// JobFinished counts one finished Job.
func (m *RunMetrics) JobFinished(_, _, result, reason string) {
	m.runs.WithLabelValues(strings.ToLower(result), reason).Inc()
}
