package agent

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
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
	// EventDigest stands for the CronJobs beyond MaxPerCheck in one Check.
	EventDigest = "digest"
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
	// Tick, when set, is called by Run every TickInterval on its own ticker
	// (the ledger's Up and a periodic Prune), so a slow evaluation or a slow
	// notifier never delays the agent's heartbeat.
	Tick         func(now time.Time)
	TickInterval time.Duration
	// Ready, when set, gates evaluation: until it reports true (the
	// target's watch has synced and the runs of the downtime are recorded)
	// Check neither evaluates nor notifies.
	Ready func() bool
	// MaxPerCheck caps the notifications of one Check: beyond it, one digest
	// notification names the rest.
	MaxPerCheck int
	// QueueSize bounds the notifications waiting for delivery; beyond it
	// they are dropped (and logged).
	QueueSize int
	// Active, when set, gates notifications: a standby replica (leader
	// election) keeps its view current but leaves alerting to the leader.
	Active func() bool
}

// DefaultHealthMonitorOptions evaluates every 2 s and re-alerts every 4 h.
func DefaultHealthMonitorOptions() HealthMonitorOptions {
	return HealthMonitorOptions{Interval: 2 * time.Second, TickInterval: 2 * time.Second, Realert: 4 * time.Hour,
		Clock: clock.RealClock{}, MaxPerCheck: 20, QueueSize: 256}
}

// HealthMonitor evaluates the fleet's health on a tick and notifies on
// Late, Missed, Failing and on recovery: once per change, then again every
// Realert while it lasts. Notifications are delivered by one worker from a
// bounded queue, never by Check itself.
type HealthMonitor struct {
	view fleet.View
	opts HealthMonitorOptions
	last map[string]alertState
	out  *notifyQueue
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
	d := DefaultHealthMonitorOptions()
	if opts.TickInterval <= 0 {
		opts.TickInterval = d.TickInterval
	}
	if opts.MaxPerCheck <= 0 {
		opts.MaxPerCheck = d.MaxPerCheck
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = d.QueueSize
	}
	m := &HealthMonitor{view: view, opts: opts, last: map[string]alertState{}}
	m.out = newNotifyQueue(opts.QueueSize, opts.Notifiers, opts.Logger)
	go m.out.run()
	return m
}

// Run evaluates on every Interval, and calls Tick on every TickInterval,
// until ctx ends; then it stops the delivery worker.
func (m *HealthMonitor) Run(ctx context.Context) {
	defer m.out.stop()
	if m.opts.Tick != nil {
		go m.runTick(ctx)
	}
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

func (m *HealthMonitor) runTick(ctx context.Context) {
	t := m.opts.Clock.NewTicker(m.opts.TickInterval)
	defer t.Stop()
	for {
		m.opts.Tick(m.opts.Clock.Now())
		select {
		case <-ctx.Done():
			return
		case <-t.C():
		}
	}
}

// Flush waits until every queued notification is delivered (or dropped).
func (m *HealthMonitor) Flush() { m.out.flush() }

// Check evaluates every CronJob once, queues its notifications (at most
// MaxPerCheck, then one digest) and returns them. It does not wait for
// their delivery: Run's worker sends them.
func (m *HealthMonitor) Check(ctx context.Context) []Notification {
	if m.opts.Ready != nil && !m.opts.Ready() {
		return nil
	}
	now := m.opts.Clock.Now()
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
	if len(sent) > m.opts.MaxPerCheck {
		sent = append(sent[:m.opts.MaxPerCheck:m.opts.MaxPerCheck], digest(sent[m.opts.MaxPerCheck:], m.opts.Target, now))
	}
	for _, n := range sent {
		m.out.push(n)
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

// digest is the one notification for the CronJobs beyond MaxPerCheck.
func digest(rest []Notification, target string, now time.Time) Notification {
	counts := map[string]int{}
	names := make([]string, 0, 10)
	for _, n := range rest {
		counts[n.Event]++
		if len(names) < cap(names) {
			names = append(names, strings.TrimPrefix(n.Object, "CronJob/"))
		}
	}
	var by []string
	for _, e := range []string{EventLate, EventMissed, EventFailing, EventRecovered} {
		if counts[e] > 0 {
			by = append(by, fmt.Sprintf("%d %s", counts[e], e))
		}
	}
	more := ""
	if len(rest) > len(names) {
		more = ", …"
	}
	return Notification{Target: target, Stage: "health", Time: now, Event: EventDigest,
		Message: fmt.Sprintf("%d more CronJobs are Late/Missed/Failing or recovered (%s): %s%s", len(rest),
			strings.Join(by, ", "), strings.Join(names, ", "), more)}
}

// notifyQueue delivers notifications one at a time from a bounded queue.
type notifyQueue struct {
	ch        chan Notification
	notifiers []Notifier
	log       *slog.Logger
	ctx       context.Context
	stop      context.CancelFunc
	mu        sync.Mutex
	idle      *sync.Cond
	pending   int
}

func newNotifyQueue(size int, notifiers []Notifier, log *slog.Logger) *notifyQueue {
	q := &notifyQueue{ch: make(chan Notification, size), notifiers: notifiers, log: log}
	q.ctx, q.stop = context.WithCancel(context.Background())
	q.idle = sync.NewCond(&q.mu)
	return q
}

// push queues n, or drops it when the queue is full.
func (q *notifyQueue) push(n Notification) {
	q.log.Warn("cronjob health", "object", n.Object, "health", n.Health, "reason", n.Reason, "event", n.Event)
	if len(q.notifiers) == 0 {
		return
	}
	q.mu.Lock()
	q.pending++
	q.mu.Unlock()
	select {
	case q.ch <- n:
	default:
		q.log.Warn("notification dropped: queue full", "event", n.Event, "object", n.Object)
		q.done()
	}
}

func (q *notifyQueue) done() {
	q.mu.Lock()
	q.pending--
	if q.pending == 0 {
		q.idle.Broadcast()
	}
	q.mu.Unlock()
}

func (q *notifyQueue) flush() {
	q.mu.Lock()
	for q.pending > 0 {
		q.idle.Wait()
	}
	q.mu.Unlock()
}

// run sends until stop; what is left queued then is dropped.
func (q *notifyQueue) run() {
	for {
		select {
		case <-q.ctx.Done():
			for {
				select {
				case <-q.ch:
					q.done()
				default:
					return
				}
			}
		case n := <-q.ch:
			for _, nt := range q.notifiers {
				cctx, cancel := context.WithTimeout(q.ctx, 10*time.Second)
				if err := nt.Notify(cctx, n); err != nil {
					q.log.Warn("notification not delivered", "event", n.Event, "object", n.Object, "err", err)
				}
				cancel()
			}
			q.done()
		}
	}
}
