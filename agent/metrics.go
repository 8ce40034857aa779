package agent

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/jobsync/jobsync/reconcile"
)

// metrics are the agent's Prometheus series (prefix jobsync_).
type metrics struct {
	duration *prometheus.HistogramVec
	results  *prometheus.CounterVec
	applied  *prometheus.GaugeVec
	objects  *prometheus.GaugeVec
	findings *prometheus.GaugeVec
	fetch    prometheus.Histogram
	lastRev  string
}

func newMetrics(reg *prometheus.Registry, target string) *metrics {
	m := &metrics{
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "jobsync_reconcile_duration_seconds", Help: "Duration of reconciles by the stage they ended in.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 14),
		}, []string{"stage"}),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jobsync_reconcile_total", Help: "Reconciles by result (applied, rejected, failed).",
		}, []string{"result"}),
		applied: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "jobsync_applied_revision_info", Help: "The last applied revision (value 1).",
			ConstLabels: prometheus.Labels{"target": target},
		}, []string{"revision"}),
		objects: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "jobsync_objects", Help: "Objects of the last reconcile by kind and action.",
		}, []string{"kind", "action"}),
		findings: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "jobsync_validation_findings", Help: "Findings of the last validated revision by severity.",
		}, []string{"severity"}),
		fetch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "jobsync_source_fetch_duration_seconds", Help: "Duration of source fetches.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}),
	}
	reg.MustRegister(m.duration, m.results, m.applied, m.objects, m.findings, m.fetch,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(a reconcile.Attempt) {
	m.duration.WithLabelValues(a.Stage).Observe(a.Finished.Sub(a.Started).Seconds())
	if a.FetchDuration > 0 {
		m.fetch.Observe(a.FetchDuration.Seconds())
	}
	switch {
	case a.Err == nil:
		m.results.WithLabelValues("applied").Inc()
	case a.Stage == "validate":
		m.results.WithLabelValues("rejected").Inc()
	default:
		m.results.WithLabelValues("failed").Inc()
	}
	if a.Stage == "validate" || a.Err == nil {
		var errs, warns int
		for _, r := range a.Findings {
			errs += len(r.Errors)
			warns += len(r.Warnings)
		}
		m.findings.WithLabelValues("error").Set(float64(errs))
		m.findings.WithLabelValues("warning").Set(float64(warns))
	}
	if a.Err != nil {
		return
	}
	if a.Revision != m.lastRev {
		m.applied.Reset()
		m.applied.WithLabelValues(a.Revision).Set(1)
		m.lastRev = a.Revision
	}
	m.objects.Reset()
	for _, c := range a.ChangeSet.Changes {
		m.objects.WithLabelValues(c.Ref.Kind, string(c.Action)).Inc()
	}
}
