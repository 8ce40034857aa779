package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/jobsync/jobsync/fleet"
	"github.com/jobsync/jobsync/ledger"
)

var h0 = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

// fleetEnv is a real ledger with one hourly CronJob, on a fake clock.
type fleetEnv struct {
	clk  *clocktesting.FakeClock
	l    *ledger.Ledger
	view *ledger.View
	spec ledger.Spec
}

// openTestLedger opens a ledger in a temporary state directory on clk.
func openTestLedger(t *testing.T, clk *clocktesting.FakeClock) *ledger.Ledger {
	t.Helper()
	o := ledger.DefaultOptions()
	o.StateDir, o.Clock = t.TempDir(), clk
	l, err := ledger.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func newFleetEnv(t *testing.T) *fleetEnv {
	clk := clocktesting.NewFakeClock(h0.Add(-48 * time.Hour))
	l := openTestLedger(t, clk)
	v := &fleetEnv{clk: clk, l: l, spec: ledger.Spec{Namespace: "ns", Name: "backup", Schedule: "0 * * * *",
		TimeZone: "Europe/Berlin", Grace: time.Minute, Created: h0.Add(-24 * time.Hour)}}
	v.view = ledger.NewView(l, func() []ledger.Spec { return []ledger.Spec{v.spec} }, clk)
	v.run(t, h0, fleet.ResultSucceeded)
	return v
}

// run records a run of the slot at due that ends a minute later with res.
func (v *fleetEnv) run(t *testing.T, due time.Time, res fleet.Result) {
	t.Helper()
	r := fleet.Run{Namespace: "ns", CronJob: "backup", Job: "backup-" + due.Format("1504"), Trigger: fleet.TriggerScheduled,
		Scheduled: due, Start: due.Add(time.Second), End: due.Add(time.Minute), Result: res}
	if res == fleet.ResultFailed {
		r.Reason = ledger.FailureReason("BackoffLimitExceeded", 3, false)
	}
	if err := v.l.Record(r); err != nil {
		t.Fatal(err)
	}
}

// slackServer is a loopback Slack-compatible webhook that keeps what it got.
type slackServer struct {
	mu    sync.Mutex
	texts []string
	code  int
}

func (s *slackServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct{ Text string }
	b, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(b, &body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.texts = append(s.texts, body.Text)
	if s.code != 0 {
		w.WriteHeader(s.code)
	}
}

func (s *slackServer) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.texts
	s.texts = nil
	return out
}

func TestHealthMonitorNotifiesLateOnceThenReAlertsAndRecovers(t *testing.T) {
	v := newFleetEnv(t)
	slack := &slackServer{}
	srv := httptest.NewServer(slack)
	defer srv.Close()
	o := DefaultHealthMonitorOptions()
	o.Clock, o.Target, o.Realert = v.clk, "embedded", time.Hour
	o.Notifiers = []Notifier{&SlackNotifier{URL: srv.URL + "/services/T000/B000/secret"}}
	m := NewHealthMonitor(v.view, o)
	ctx := context.Background()
	steps := []struct {
		name  string
		at    time.Time
		do    func()
		event string
		text  string
	}{
		{name: "within grace", at: h0.Add(time.Hour + 59*time.Second)},
		{name: "late after grace", at: h0.Add(time.Hour + 61*time.Second), event: EventLate,
			text: `CronJob ns/backup ("0 * * * *" Europe/Berlin) is late: no Job yet for 2026-11-22 14:00 CET`},
		{name: "still late: deduplicated", at: h0.Add(time.Hour + 63*time.Second)},
		{name: "the run starts and fails", at: h0.Add(time.Hour + 2*time.Minute), do: func() { v.run(t, h0.Add(time.Hour), fleet.ResultFailed) },
			event: EventFailing, text: "is failing: its last run failed (BackoffLimitExceeded: exit code 3)"},
		{name: "failing, before the re-alert interval", at: h0.Add(time.Hour + 30*time.Minute)},
		{name: "next slot succeeds: recovered", at: h0.Add(2*time.Hour + 2*time.Minute), do: func() { v.run(t, h0.Add(2*time.Hour), fleet.ResultSucceeded) },
			event: EventRecovered, text: "recovered (was failing)"},
		{name: "a slot skipped while late past the next: missed", at: h0.Add(4*time.Hour + 10*time.Second), event: EventMissed,
			text: "missed its run of 2026-11-22 16:00 CET: DeadlinePassed"},
		{name: "missed, re-alert after an hour", at: h0.Add(5*time.Hour + 11*time.Second), event: EventMissed},
	}
	for _, st := range steps {
		v.clk.SetTime(st.at)
		if st.do != nil {
			st.do()
		}
		sent := m.Check(ctx)
		m.Flush()
		texts := slack.take()
		if st.event == "" {
			if len(sent) != 0 || len(texts) != 0 {
				t.Fatalf("%s: sent %+v (texts %q), want nothing", st.name, sent, texts)
			}
			continue
		}
		if len(sent) != 1 || sent[0].Event != st.event || sent[0].Object != "CronJob/ns/backup" || len(texts) != 1 {
			t.Fatalf("%s: sent %+v (texts %q), want one %s", st.name, sent, texts, st.event)
		}
		if !strings.Contains(texts[0], st.text) {
			t.Errorf("%s: slack text %q, want it to contain %q", st.name, texts[0], st.text)
		}
	}
}

func TestSlackNotifierNeverShowsTheURL(t *testing.T) {
	slack := &slackServer{code: http.StatusForbidden}
	srv := httptest.NewServer(slack)
	const secret = "/services/T000/B000/very-secret-token"
	n := &SlackNotifier{URL: srv.URL + secret}
	err := n.Notify(context.Background(), Notification{Event: "applied", Target: "cluster", Revision: "0123456789abcdef0123"})
	if err == nil || strings.Contains(err.Error(), "very-secret") {
		t.Errorf("refused: err = %v (must not hold the URL)", err)
	}
	if got := slack.take(); len(got) != 1 || got[0] != "jobsync (cluster): revision 0123456789ab applied (0 objects)" {
		t.Errorf("slack got %q", got)
	}
	srv.Close()
	err = n.Notify(context.Background(), Notification{Event: "failed", Stage: "fetch", Error: "x"})
	if err == nil || strings.Contains(err.Error(), "very-secret") {
		t.Errorf("server down: err = %v (must not hold the URL)", err)
	}
}

func TestFleetMetricsAndAPI(t *testing.T) {
	v := newFleetEnv(t)
	v.clk.SetTime(h0.Add(time.Hour + 2*time.Minute)) // late
	fm := NewFleetMetrics(v.view)
	rec := NewRunRecorder(v.l, fm, nil)
	late := fleet.Run{Namespace: "ns", CronJob: "backup", Job: "backup-1", Trigger: fleet.TriggerScheduled,
		Scheduled: h0.Add(time.Hour), Start: h0.Add(time.Hour + 90*time.Second)}
	reg := prometheus.NewRegistry()
	reg.MustRegister(fm)
	got := gather(t, reg)
	for k, want := range map[string]float64{
		`jobsync_cronjob_health{cronjob="backup",namespace="ns",state="Late"}`:             1,
		`jobsync_cronjob_health{cronjob="backup",namespace="ns",state="Healthy"}`:          0,
		`jobsync_cronjob_next_schedule_timestamp_seconds{cronjob="backup",namespace="ns"}`: float64(h0.Add(2 * time.Hour).Unix()),
		`jobsync_cronjob_last_success_timestamp_seconds{cronjob="backup",namespace="ns"}`:  float64(h0.Add(time.Minute).Unix()),
	} {
		if v, ok := got[k]; !ok || v != want {
			t.Errorf("%s = %v (present %t), want %v", k, v, ok, want)
		}
	}
	rec.Started(late)
	late.End, late.Result = late.Start.Add(10*time.Second), fleet.ResultSucceeded
	rec.Finished(late)
	rec.Flush()
	got = gather(t, reg)
	if v := got[`jobsync_cronjob_runs_total{cronjob="backup",namespace="ns",result="succeeded"}`]; v != 1 {
		t.Errorf("runs_total{succeeded} = %v, want 1", v)
	}
	if v := got["jobsync_cronjob_schedule_skew_seconds_sum"]; v != 90 {
		t.Errorf("skew sum = %v, want 90", v)
	}
	if v := got["jobsync_cronjob_run_duration_seconds_count"]; v != 1 {
		t.Errorf("duration count = %v, want 1", v)
	}
	// the API serves the same view
	a := New(nil, "embedded", Options{Fleet: v.view})
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	var runs []fleet.Run
	getJSON(t, srv.URL+"/v1/fleet/runs/ns/backup?limit=1", &runs)
	if len(runs) != 1 || runs[0].Job != "backup-1" || runs[0].Result != fleet.ResultSucceeded || runs[0].Skew() != 90*time.Second {
		t.Errorf("runs = %+v", runs)
	}
	var cjs []fleet.CronJob
	getJSON(t, srv.URL+"/v1/fleet/cronjobs", &cjs)
	if len(cjs) != 1 || cjs[0].Health.State != fleet.StateHealthy || cjs[0].LastResult != fleet.ResultSucceeded {
		t.Errorf("cronjobs = %+v", cjs)
	}
	if resp, err := http.Get(srv.URL + "/v1/fleet/cronjobs/ns/ghost"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown CronJob: %v %v", resp.Status, err)
	}
}

func getJSON(t *testing.T, u string, out any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

// gather flattens a registry: name{labels} of gauges and counters, and
// name_sum / name_count of histograms.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+strconv.Quote(l.GetValue()))
			}
			key := mf.GetName()
			if len(ls) > 0 {
				key += "{" + strings.Join(ls, ",") + "}"
			}
			switch mf.GetType() {
			case dto.MetricType_HISTOGRAM:
				out[mf.GetName()+"_sum"] = m.GetHistogram().GetSampleSum()
				out[mf.GetName()+"_count"] = float64(m.GetHistogram().GetSampleCount())
			case dto.MetricType_COUNTER:
				out[key] = m.GetCounter().GetValue()
			default:
				out[key] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

func TestRunRecorderRecordsARunWhoseStartItMissed(t *testing.T) {
	v := newFleetEnv(t)
	rec := NewRunRecorder(v.l, nil, nil)
	r := fleet.Run{Namespace: "ns", CronJob: "backup", Job: "backup-old", Trigger: fleet.TriggerScheduled, Scheduled: h0.Add(-time.Hour),
		Start: h0.Add(-time.Hour + time.Second), End: h0.Add(-50 * time.Minute), Result: fleet.ResultFailed, Reason: "DeadlineExceeded"}
	rec.Finished(r)
	rec.Flush()
	runs := v.l.Runs("ns", "backup", 0)
	if len(runs) != 2 || runs[1].Job != "backup-old" || runs[1].Result != fleet.ResultFailed || !runs[1].End.Equal(r.End) {
		t.Errorf("runs = %+v", runs)
	}
}

func TestHealthMonitorStandbyDoesNotNotify(t *testing.T) {
	v := newFleetEnv(t)
	leading := false
	o := DefaultHealthMonitorOptions()
	o.Clock, o.Active = v.clk, func() bool { return leading }
	m := NewHealthMonitor(v.view, o)
	v.clk.SetTime(h0.Add(time.Hour + 2*time.Minute))
	if sent := m.Check(context.Background()); len(sent) != 0 {
		t.Fatalf("standby sent %+v", sent)
	}
	leading = true
	if sent := m.Check(context.Background()); len(sent) != 1 || sent[0].Event != EventLate {
		t.Fatalf("leader sent %+v, want the late one it had not sent", sent)
	}
}

// An informer tells the recorder of a run again (a Job's status updates, an
// agent restart listing every Job): the metrics count it once.
func TestRunRecorderCountsARunOnceWhenToldTwice(t *testing.T) {
	v := newFleetEnv(t)
	fm := NewFleetMetrics(v.view)
	rec := NewRunRecorder(v.l, fm, nil)
	reg := prometheus.NewRegistry()
	reg.MustRegister(fm)
	r := fleet.Run{Namespace: "ns", CronJob: "backup", Job: "backup-2", Trigger: fleet.TriggerScheduled,
		Scheduled: h0.Add(time.Hour), Start: h0.Add(time.Hour + 30*time.Second)}
	rec.Started(r)
	rec.Flush()
	rec.Started(r)
	rec.Flush()
	r.End, r.Result = r.Start.Add(10*time.Second), fleet.ResultFailed
	for range 3 {
		rec.Finished(r)
		rec.Flush()
	}
	got := gather(t, reg)
	for k, want := range map[string]float64{
		"jobsync_cronjob_schedule_skew_seconds_count":                                 1,
		"jobsync_cronjob_run_duration_seconds_count":                                  1,
		`jobsync_cronjob_runs_total{cronjob="backup",namespace="ns",result="failed"}`: 1,
	} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
}

// An agent restart lists every Job at once: a full queue drops (and
// counts) a start, never the end of a run.
func TestRunRecorderKeepsTheEndOfARunWhenTheQueueIsFull(t *testing.T) {
	v := newFleetEnv(t)
	rec := NewRunRecorder(v.l, nil, nil)
	reg := prometheus.NewRegistry()
	reg.MustRegister(rec.Collector())
	for i := range cap(rec.ops) + 1 {
		rec.Started(fleet.Run{Namespace: "ns", CronJob: "other", Job: fmt.Sprintf("other-%d", i), Start: h0.Add(time.Duration(i) * time.Second)})
	}
	r := fleet.Run{Namespace: "ns", CronJob: "backup", Job: "backup-gone", Start: h0.Add(-time.Hour),
		End: h0.Add(-50 * time.Minute), Result: fleet.ResultFailed, Reason: "BackoffLimitExceeded"}
	rec.Finished(r)
	rec.Flush()
	runs := v.l.Runs("ns", "backup", 0)
	if len(runs) != 2 || runs[1].Job != "backup-gone" || runs[1].Result != fleet.ResultFailed {
		t.Errorf("runs = %+v, want backup-gone failed", runs)
	}
	got := gather(t, reg)
	if v := got[`jobsync_run_ledger_dropped_total{op="started"}`]; v != 1 {
		t.Errorf("dropped started = %v, want 1", v)
	}
	if v, ok := got[`jobsync_run_ledger_dropped_total{op="finished"}`]; ok && v != 0 {
		t.Errorf("dropped finished = %v, want 0", v)
	}
}

// slowHook is a loopback webhook whose handler blocks until released.
type slowHook struct {
	got     chan string
	release chan struct{}
}

func (s *slowHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body struct{ Text string }
	b, _ := io.ReadAll(r.Body)
	_ = json.Unmarshal(b, &body)
	s.got <- body.Text
	<-s.release
}

// manyLate is a real ledger view of n CronJobs, all late at h0+1h+2m.
func manyLate(t *testing.T, clk *clocktesting.FakeClock, n int) *ledger.View {
	l := openTestLedger(t, clk)
	specs := make([]ledger.Spec, n)
	for i := range specs {
		specs[i] = ledger.Spec{Namespace: "ns", Name: "job-" + strconv.Itoa(i), Schedule: "0 * * * *", Grace: time.Minute,
			Created: h0.Add(30 * time.Minute)}
	}
	return ledger.NewView(l, func() []ledger.Spec { return specs }, clk)
}

func TestHealthMonitorSlowWebhookBlocksNeitherCheckNorHeartbeat(t *testing.T) {
	clk := clocktesting.NewFakeClock(h0)
	hook := &slowHook{got: make(chan string, 100), release: make(chan struct{})}
	srv := httptest.NewServer(hook)
	defer srv.Close()
	defer close(hook.release)
	ticks := make(chan time.Time, 10)
	o := DefaultHealthMonitorOptions()
	o.Clock, o.Interval, o.TickInterval = clk, time.Hour, time.Second
	o.Notifiers = []Notifier{&SlackNotifier{URL: srv.URL}}
	o.Tick = func(now time.Time) { ticks <- now }
	m := NewHealthMonitor(manyLate(t, clk, 50), o)
	clk.SetTime(h0.Add(time.Hour + 2*time.Minute))
	checked := make(chan []Notification, 1)
	go func() { checked <- m.Check(context.Background()) }()
	var sent []Notification
	select {
	case sent = <-checked:
	case <-time.After(5 * time.Second): // a failure bound, not a wait
		t.Fatal("Check blocked on the slow webhook")
	}
	if len(sent) != 21 || len(sent) > 0 && sent[20].Event != EventDigest || !strings.Contains(sent[20].Message, "30 more CronJobs are Late/Missed/Failing") {
		t.Fatalf("sent %d notifications, last %+v; want 20 and one digest of 30", len(sent), sent)
	}
	<-hook.got // the worker is stuck in the webhook now
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go m.Run(ctx)
	for i := range 3 {
		<-ticks
		if i == 2 {
			break
		}
		for !clk.HasWaiters() {
			runtime.Gosched()
		}
		clk.Step(time.Second)
	}
}

func TestHealthMonitorDoesNotNotifyBeforeReady(t *testing.T) {
	v := newFleetEnv(t)
	slack := &slackServer{}
	srv := httptest.NewServer(slack)
	defer srv.Close()
	ready := false
	o := DefaultHealthMonitorOptions()
	o.Clock, o.Ready = v.clk, func() bool { return ready }
	o.Notifiers = []Notifier{&SlackNotifier{URL: srv.URL}}
	m := NewHealthMonitor(v.view, o)
	// the agent restarts late: the downtime's run is not recorded yet
	v.clk.SetTime(h0.Add(time.Hour + 2*time.Minute))
	if sent := m.Check(context.Background()); len(sent) != 0 {
		t.Fatalf("not ready, sent %+v", sent)
	}
	m.Flush()
	if got := slack.take(); len(got) != 0 {
		t.Fatalf("not ready, slack got %q", got)
	}
	v.run(t, h0.Add(time.Hour), fleet.ResultSucceeded) // the watch catches up
	ready = true
	if sent := m.Check(context.Background()); len(sent) != 0 {
		t.Fatalf("ready and healthy, sent %+v (a false late or recovered)", sent)
	}
}
