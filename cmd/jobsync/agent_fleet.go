package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/clock"

	"github.com/jobsync/jobsync/agent"
	"github.com/jobsync/jobsync/fleet"
	"github.com/jobsync/jobsync/ledger"
	"github.com/jobsync/jobsync/reconcile/cluster"
	"github.com/jobsync/jobsync/reconcile/embedded"
)

// fleetFlags configure the run ledger, CronJob health and its alerts.
type fleetFlags struct {
	slackURLFile   string
	realert        time.Duration
	retention      time.Duration
	healthInterval time.Duration
}

func (f *fleetFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&f.slackURLFile, "notify-slack-url-file", "", "file with a Slack-compatible incoming webhook URL: revisions and CronJob health (late, missed, failing, recovered) are posted there")
	fl.DurationVar(&f.realert, "health-realert", 4*time.Hour, "a CronJob that stays late, missed or failing is notified again after this long")
	fl.DurationVar(&f.retention, "ledger-retention", 30*24*time.Hour, "how long the run ledger keeps runs")
	fl.DurationVar(&f.healthInterval, "health-interval", 2*time.Second, "time between two evaluations of every CronJob's health")
}

// agentFleet is a target's run ledger, its fleet.View and metrics.
type agentFleet struct {
	l       *ledger.Ledger
	view    *ledger.View
	metrics *agent.FleetMetrics
	rec     *agent.RunRecorder
	// started: the target's start returned; watched, when set: its run
	// watch has its first list. Health waits for both (see ready).
	started, isReady atomic.Bool
	watched          *atomic.Bool
}

// markStarted says the target's start returned.
func (af *agentFleet) markStarted() { af.started.Store(true) }

// ready says the ledger holds the runs of the agent's downtime: the target
// has started, its run watch (cluster) has synced, and the recorder's queue
// is written. Until then health is not evaluated (no false Late/Missed and
// "recovered" on a restart).
func (af *agentFleet) ready() bool {
	if af.isReady.Load() {
		return true
	}
	if !af.started.Load() || (af.watched != nil && !af.watched.Load()) {
		return false
	}
	af.rec.Flush()
	af.isReady.Store(true)
	return true
}

// openAgentFleet opens the ledger in stateDir; specs lists the target's
// CronJobs as they are now.
func openAgentFleet(stateDir string, f fleetFlags, specs func() []ledger.Spec, log *slog.Logger) (*agentFleet, error) {
	o := ledger.DefaultOptions()
	o.StateDir, o.Retention = stateDir, f.retention
	l, err := ledger.Open(o)
	if err != nil {
		return nil, err
	}
	af := &agentFleet{l: l}
	af.view = ledger.NewView(l, func() []ledger.Spec {
		s := specs()
		now := time.Now()
		for _, c := range s {
			if err := l.Suspended(c.Namespace, c.Name, c.Suspend, now); err != nil {
				log.Warn("run ledger: suspension not recorded", "cronjob", c.Namespace+"/"+c.Name, "err", err)
			}
		}
		return s
	}, clock.RealClock{})
	af.metrics = agent.NewFleetMetrics(af.view)
	af.rec = agent.NewRunRecorder(l, af.metrics, log)
	return af, nil
}

// run records runs and watches health until ctx ends.
// Only the replica holding the Lease (active) notifies.
func (af *agentFleet) run(ctx context.Context, f fleetFlags, target string, notifiers []agent.Notifier, active func() bool, log *slog.Logger) {
	go af.rec.Run(ctx)
	mo := agent.DefaultHealthMonitorOptions()
	mo.Active, mo.Ready = active, af.ready
	mo.Interval, mo.Realert, mo.Target, mo.Notifiers, mo.Logger, mo.Metrics = f.healthInterval, f.realert, target, notifiers, log, af.metrics
	lastPrune := time.Time{}
	mo.Tick = func(now time.Time) {
		if err := af.l.Up(); err != nil {
			log.Warn("run ledger: agent heartbeat not recorded", "err", err)
		}
		if now.Sub(lastPrune) > time.Hour {
			lastPrune = now
			if n, err := af.l.Prune(); err != nil {
				log.Warn("run ledger: prune failed", "err", err)
			} else if n > 0 {
				log.Info("run ledger pruned", "runs", n)
			}
		}
	}
	go agent.NewHealthMonitor(af.view, mo).Run(ctx)
}

func (af *agentFleet) close() {
	af.rec.Flush()
	_ = af.l.Close()
}

// specsOf converts live CronJobs; gitSuspend says Git's spec.suspend when a
// local override changed it (nil: none).
func specsOf(l []batchv1.CronJob, gitSuspend func(*batchv1.CronJob) *bool) []ledger.Spec {
	out := make([]ledger.Spec, 0, len(l))
	for i := range l {
		s, _ := ledger.SpecOf(&l[i], gitSuspend(&l[i])) // a bad grace: the default (validate reports it)
		out = append(out, s)
	}
	return out
}

// embeddedSpecs lists the engine's CronJobs; "who suspended" is a local
// override (jobsync suspend) or Git.
func embeddedSpecs(e *embedded.Engine) func() []ledger.Spec {
	return func() []ledger.Spec {
		return specsOf(e.ListCronJobs(), func(c *batchv1.CronJob) *bool {
			if git, ok := e.GitSuspend(c.Namespace, c.Name); ok {
				return &git
			}
			return nil
		})
	}
}

// embeddedObserver is the engine's Observer: run metrics, and the ledger.
type embeddedObserver struct {
	*agent.RunMetrics
	rec *agent.RunRecorder
}

var _ embedded.RunObserver = embeddedObserver{}

func (o embeddedObserver) RunStarted(s embedded.RunStart) {
	r := fleet.Run{Namespace: s.Namespace, CronJob: s.CronJob, Job: s.Job, Scheduled: s.Scheduled, Start: s.Start, Trigger: fleet.TriggerManual}
	if !s.Scheduled.IsZero() {
		r.Trigger = ledger.TriggerOf(s.Scheduled, s.Start)
	}
	o.rec.Started(r)
}

func (o embeddedObserver) RunFinished(e embedded.RunEnd) {
	r := fleet.Run{Namespace: e.Namespace, CronJob: e.CronJob, Job: e.Job, Start: e.Start, Scheduled: e.Scheduled, End: e.End,
		Trigger: fleet.TriggerManual, Result: fleet.ResultSucceeded, Reason: e.Reason}
	if !e.Scheduled.IsZero() {
		r.Trigger = ledger.TriggerOf(e.Scheduled, e.Start)
	}
	if e.Failed {
		r.Result, r.Reason = fleet.ResultFailed, ledger.FailureReason(e.Reason, e.ExitCode, e.OOMKilled)
	}
	o.rec.Finished(r)
}

// fleetNotifiers adds the Slack notifier of --notify-slack-url-file.
func (f fleetFlags) notifiers() ([]agent.Notifier, error) {
	if f.slackURLFile == "" {
		return nil, nil
	}
	u, err := readSecretFile(f.slackURLFile, "--notify-slack-url-file")
	if err != nil {
		return nil, err
	}
	if len(u) < 8 || (string(u[:8]) != "https://" && string(u[:7]) != "http://") {
		return nil, fmt.Errorf("--notify-slack-url-file %s: not an http(s) URL", f.slackURLFile)
	}
	return []agent.Notifier{&agent.SlackNotifier{URL: string(u)}}, nil
}

// openClusterFleet gives the cluster target its run ledger, fed by a watch
// of the sync's CronJobs and their Jobs.
func openClusterFleet(ot *openedTarget, cs kubernetes.Interface, f agentFlags, manager string, log *slog.Logger) error {
	var rw *cluster.RunWatch
	af, err := openAgentFleet(f.stateDir, f.fleet, func() []ledger.Spec {
		return specsOf(rw.CronJobs(), func(c *batchv1.CronJob) *bool { return clusterGitSuspend(c, manager) })
	}, log)
	if err != nil {
		return err
	}
	// the agent's namespace, as its Role (deploy/rbac.yaml) allows
	if rw, err = cluster.NewRunWatch(cs, f.sync, ot.namespace, af.rec); err != nil {
		af.close()
		return err
	}
	ot.fleet, ot.collectors = af, append(ot.collectors, af.metrics, af.rec.Collector())
	af.watched = new(atomic.Bool)
	ot.start = func(ctx context.Context) error {
		go func() {
			if err := rw.Run(ctx); err != nil {
				if ctx.Err() == nil {
					log.Error("run ledger: watch of CronJobs and Jobs stopped", "err", err)
				}
				return
			}
			af.watched.Store(true) // Run returns once the informers have synced
		}()
		return nil
	}
	ot.close = af.close
	return nil
}

// clusterGitSuspend says Git's spec.suspend is false when another field
// manager than jobsync's (kubectl patch, jobsync suspend) owns spec.suspend;
// nil (Git's own value) otherwise.
func clusterGitSuspend(c *batchv1.CronJob, manager string) *bool {
	for _, m := range c.ManagedFields {
		if m.Manager != manager && m.FieldsV1 != nil && bytes.Contains(m.FieldsV1.Raw, []byte(`"f:suspend"`)) {
			git := false
			return &git
		}
	}
	return nil
}
