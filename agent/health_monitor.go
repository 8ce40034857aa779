package agent

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"k8s.io/utils/clock"

	"github.com/jobsync/jobsync/fleet"
)

// Health events of a Notification (Stage "health").
const (
	EventLate      = "late"
	EventMissed    = "missed"
	EventFailing   = "failing"
	EventRecovered = "recovered"
)

// HealthMonitorOptions configures a HealthMonitor.
type HealthMonitorOptions struct {
	// Interval between two evaluations of every CronJob's health: a Late
	// CronJob is seen within grace + Interval.
	Interval time.Duration
	// Realert is how long a CronJob that stays Late, Missed or Failing waits
	// before it is notified again.
	Realert time.Duration
	Clock   clock.WithTicker
	// Target names the target in notifications.
	Target    string
	Notifiers []Notifier
	Logger    *slog.Logger
	Metrics   *FleetMetrics
	// Tick, when set, is called before each evaluation (the ledger's Up and
	// a periodic Prune).
	Tick func(now time.Time)
	// Active, when set, gates notifications: a standby replica (leader
	// election) keeps its view current but leaves alerting to the leader.
	Active func() bool
}

// DefaultHealthMonitorOptions evaluates every 2 s and re-alerts every 4 h.
func DefaultHealthMonitorOptions() HealthMonitorOptions {
	return HealthMonitorOptions{Interval: 2 * time.Second, Realert: 4 * time.Hour, Clock: clock.RealClock{}}
}

// HealthMonitor evaluates the fleet's health on a tick and notifies on
// Late, Missed, Failing and on recovery: once per change, then again every
// Realert while it lasts.
type HealthMonitor struct {
	view fleet.View
	opts HealthMonitorOptions
	last map[string]alertState
}

type alertState struct {
	health fleet.Health
	// ident is what the last notification was about; sent when.
	ident string
	sent  time.Time
}

// NewHealthMonitor returns a monitor of view.
func NewHealthMonitor(view fleet.View, opts HealthMonitorOptions) *HealthMonitor {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	return &HealthMonitor{view: view, opts: opts, last: map[string]alertState{}}
}

// Run evaluates on every Interval until ctx ends.
func (m *HealthMonitor) Run(ctx context.Context) {
	t := m.opts.Clock.NewTicker(m.opts.Interval)
	defer t.Stop()
	for {
		m.Check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
	}
}

// Check evaluates every CronJob once, notifies, and returns the
// notifications it sent.
func (m *HealthMonitor) Check(ctx context.Context) []Notification {
	now := m.opts.Clock.Now()
	if m.opts.Tick != nil {
		m.opts.Tick(now)
	}
	var sent []Notification
	seen := make(map[string]bool, len(m.last))
	for _, c := range m.view.CronJobs() {
		key := c.Namespace + "/" + c.Name
		seen[key] = true
		prev, known := m.last[key]
		h := c.Health
		if h.State == fleet.StateMissed && (prev.health.State != fleet.StateMissed || !prev.health.Due.Equal(h.Due)) {
			m.opts.Metrics.missedRun(c.Namespace, c.Name, h.Reason)
		}
		next := alertState{health: h, ident: prev.ident, sent: prev.sent}
		if n, ok := m.decide(c, prev, known, now); ok && (m.opts.Active == nil || m.opts.Active()) {
			m.send(ctx, n)
			sent = append(sent, n)
			next.ident, next.sent = alertIdent(h), now
		}
		m.last[key] = next
	}
	for k := range m.last {
		if !seen[k] {
			delete(m.last, k) // pruned from Git: forget it
		}
	}
	return sent
}

func bad(s fleet.State) bool {
	return s == fleet.StateLate || s == fleet.StateMissed || s == fleet.StateFailing
}

func alertIdent(h fleet.Health) string {
	return string(h.State) + "|" + h.Reason + "|" + h.Due.UTC().Format(time.RFC3339)
}

// decide returns the notification a CronJob's health calls for, if any.
func (m *HealthMonitor) decide(c fleet.CronJob, prev alertState, known bool, now time.Time) (Notification, bool) {
	h := c.Health
	n := Notification{Target: m.opts.Target, Stage: "health", Time: now, Object: "CronJob/" + c.Namespace + "/" + c.Name,
		Health: string(h.State), Reason: h.Reason}
	if !h.Due.IsZero() {
		n.Due = &h.Due
	}
	switch {
	case bad(h.State):
		if prev.ident == alertIdent(h) && now.Sub(prev.sent) < m.opts.Realert {
			return n, false
		}
		n.Event = strings.ToLower(string(h.State))
	case known && h.State == fleet.StateHealthy && bad(prev.health.State):
		n.Event = EventRecovered
	default:
		return n, false
	}
	n.Message = healthMessage(c, prev.health)
	return n, true
}

func (m *HealthMonitor) send(ctx context.Context, n Notification) {
	m.opts.Logger.Warn("cronjob health", "object", n.Object, "health", n.Health, "reason", n.Reason, "event", n.Event)
	for _, nt := range m.opts.Notifiers {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		if err := nt.Notify(cctx, n); err != nil {
			m.opts.Logger.Warn("notification not delivered", "event", n.Event, "object", n.Object, "err", err)
		}
		cancel()
	}
}

// healthMessage is one line for people (the Slack text).
func healthMessage(c fleet.CronJob, prev fleet.Health) string {
	h := c.Health
	who := fmt.Sprintf("CronJob %s/%s (%q", c.Namespace, c.Name, c.Schedule)
	if c.TimeZone != "" {
		who += " " + c.TimeZone
	}
	who += ")"
	due := ""
	if !h.Due.IsZero() {
		due = h.Due.Format("2006-01-02 15:04 MST")
	}
	switch h.State {
	case fleet.StateLate:
		msg := fmt.Sprintf("%s is late: no Job yet for %s", who, due)
		if h.Reason == string(fleet.MissForbid) {
			msg += " (concurrencyPolicy Forbid and the previous run is still active)"
		}
		return msg
	case fleet.StateMissed:
		return fmt.Sprintf("%s missed its run of %s: %s", who, due, h.Reason)
	case fleet.StateFailing:
		return fmt.Sprintf("%s is failing: its last run failed (%s)", who, h.Reason)
	}
	return fmt.Sprintf("%s recovered (was %s)", who, strings.ToLower(string(prev.State)))
}
