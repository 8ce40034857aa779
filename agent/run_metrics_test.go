package agent

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestRunMetrics(t *testing.T) {
	m := NewRunMetrics()
	reg := prometheus.NewRegistry()
	reg.MustRegister(m.Collectors()...)
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	m.JobScheduled("ns", "cj", at, at.Add(300*time.Millisecond))
	m.JobScheduled("ns", "cj", at, at.Add(7*time.Second))
	m.JobFinished("ns", "a", "Complete", "CompletionsReached")
	m.JobFinished("ns", "b", "Failed", "BackoffLimitExceeded")
	m.JobFinished("ns", "c", "Failed", "BackoffLimitExceeded")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		byName[mf.GetName()] = mf
	}
	runs := map[string]float64{}
	for _, s := range byName["jobsync_embedded_job_runs_total"].GetMetric() {
		key := ""
		for _, l := range s.GetLabel() {
			key += l.GetName() + "=" + l.GetValue() + " "
		}
		runs[key] = s.GetCounter().GetValue()
	}
	want := map[string]float64{
		"reason=BackoffLimitExceeded result=failed ": 2,
		"reason=CompletionsReached result=complete ": 1,
	}
	if len(runs) != len(want) {
		t.Fatalf("runs %v, want %v", runs, want)
	}
	for k, v := range want {
		if runs[k] != v {
			t.Fatalf("runs %v, want %v", runs, want)
		}
	}
	delay := byName["jobsync_embedded_schedule_delay_seconds"]
	if delay == nil {
		t.Fatal("no jobsync_embedded_schedule_delay_seconds")
	}
	h := delay.GetMetric()[0].GetHistogram()
	if h.GetSampleCount() != 2 || h.GetSampleSum() < 7.29 || h.GetSampleSum() > 7.31 {
		t.Fatalf("delay histogram count %d sum %f, want 2 and 7.3", h.GetSampleCount(), h.GetSampleSum())
	}
}
