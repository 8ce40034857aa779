package agent

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jobsync/jobsync/fleet"
	"github.com/jobsync/jobsync/reconcile"
)

// SocketName is the file name of the agent's unix socket in its state directory.
const SocketName = "jobsync.sock"

// Options configures an Agent.
type Options struct {
	// Socket is the unix socket path for the local API ("" = none).
	Socket string
	// Listen is a TCP address for /healthz, /readyz, /metrics, /status,
	// the signed webhooks and Pages ("" = none), e.g. ":8080". The control
	// API (/v1/...) is not served there unless ControlToken is set.
	Listen string
	// Runtime is the embedded target's query/command side; nil for cluster.
	Runtime Runtime
	// Logger receives one structured line per reconcile. Nil discards.
	Logger *slog.Logger
	// Registerer receives the agent's metrics; nil means a private registry.
	Registry *prometheus.Registry
	// Webhook configures push receivers; nil disables them.
	Webhook *WebhookOptions
	// LeaderElection, when set, runs the loop only while this replica holds
	// the Lease.
	LeaderElection *LeaderElection
	// Fleet, when set, is served on /v1/fleet/ (CronJob health and the run
	// ledger, for jobsync get, runs and why).
	Fleet fleet.View
	// Notifiers are told about applied and failed revisions.
	Notifiers []Notifier
	// ShutdownTimeout bounds the HTTP servers' graceful shutdown.
	ShutdownTimeout time.Duration
	// Pages is a read-only handler (the web view) served at "/" on Listen;
	// nil = none. It is given GET and HEAD requests only, never one under /v1/.
	Pages http.Handler
	// ControlToken, when not empty, also serves the control API (/v1/...) on
	// Listen, to requests with "Authorization: Bearer <ControlToken>". Empty:
	// the control API is on the socket only.
	ControlToken []byte
	// HTTP bounds the servers: time per request, and connections on Listen.
	HTTP HTTPLimits
}

// DefaultOptions returns options with no listeners and a 10 s shutdown.
func DefaultOptions() Options {
	return Options{ShutdownTimeout: 10 * time.Second, HTTP: DefaultHTTPLimits()}
}

// Agent runs a loop and serves its state.
type Agent struct {
	loop    *reconcile.Loop
	target  string
	opts    Options
	metrics *metrics
	trigger chan struct{}

	prev *reconcile.Attempt

	mu      sync.Mutex
	ready   bool
	leading bool
	handler http.Handler
	// tcpHandler is what Listen serves: no control API without ControlToken.
	tcpHandler http.Handler
	// wrapListener, when set (by tests), wraps the TCP listener.
	wrapListener func(net.Listener) net.Listener
}

// New returns an agent for loop, whose target is named target.
func New(loop *reconcile.Loop, target string, opts Options) *Agent {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	if opts.HTTP == (HTTPLimits{}) {
		opts.HTTP = DefaultHTTPLimits()
	}
	a := &Agent{loop: loop, target: target, opts: opts, trigger: make(chan struct{}, 1)}
	a.metrics = newMetrics(opts.Registry, target)
	a.handler = a.routes()
	a.tcpHandler = a.tcpRoutes(a.handler)
	return a
}

// Handler is the agent's whole HTTP API, as served on the socket; Listen
// serves a part of it (see Options.Listen).
func (a *Agent) Handler() http.Handler { return a.handler }

// TCPHandler is what Listen serves: the public routes, Pages, and the
// control API only behind ControlToken.
func (a *Agent) TCPHandler() http.Handler { return a.tcpHandler }

// Reconcile asks for a reconcile now; bursts collapse into one.
func (a *Agent) Reconcile() {
	select {
	case a.trigger <- struct{}{}:
	default:
	}
}

// Ready reports whether a revision has been applied since start.
func (a *Agent) Ready() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ready
}

// Run serves the API and runs the loop until ctx ends or a server fails;
// then it shuts the servers down. A reconcile in progress finishes its stage
// first (the loop checks ctx between stages), with /healthz still served.
func (a *Agent) Run(ctx context.Context) error {
	servers, err := a.listen()
	if err != nil {
		return err
	}
	g, gctx := newGroup(ctx)
	for _, s := range servers {
		g.Go(s.serve)
	}
	loopDone := make(chan struct{})
	g.Go(func() error {
		defer close(loopDone)
		return a.runLoop(gctx)
	})
	g.Go(func() error {
		<-gctx.Done()
		<-loopDone
		a.shutdown(servers)
		return nil
	})
	err = g.Wait()
	if a.opts.Socket != "" {
		_ = os.Remove(a.opts.Socket)
	}
	return err
}

// runLoop runs the loop until ctx ends, or while this replica leads.
func (a *Agent) runLoop(ctx context.Context) error {
	if le := a.opts.LeaderElection; le != nil {
		return a.runLeading(ctx, *le, func(lctx context.Context) { a.loop.Run(lctx, a.trigger, a.observe) })
	}
	a.setLeading(true)
	a.loop.Run(ctx, a.trigger, a.observe)
	return nil
}

// observe logs and measures one attempt.
func (a *Agent) observe(at reconcile.Attempt) {
	a.metrics.observe(at)
	a.notify(at)
	log := a.opts.Logger.With("revision", at.Revision, "stage", at.Stage,
		"duration", at.Finished.Sub(at.Started).Round(time.Millisecond).String())
	if at.Err != nil {
		log.Error("reconcile failed", "err", at.Err, "findings", len(at.Findings))
		return
	}
	a.mu.Lock()
	a.ready = true
	a.mu.Unlock()
	cs := at.ChangeSet
	log.Info("reconciled", "create", cs.Count(reconcile.ActionCreate), "update", cs.Count(reconcile.ActionUpdate),
		"recreate", cs.Count(reconcile.ActionRecreate), "prune", cs.Count(reconcile.ActionPrune),
		"unchanged", cs.Count(reconcile.ActionUnchanged), "drift", len(at.Result.Drift))
	for _, o := range at.Result.Outcomes {
		if o.Err != "" {
			log.Warn("object not applied", "object", o.Change.Ref.String(), "err", o.Err)
		} else if !o.Done && o.Reason != "" {
			log.Info("object deferred", "object", o.Change.Ref.String(), "reason", o.Reason)
		}
	}
}

// notify tells the notifiers, with a bounded wait each.
func (a *Agent) notify(at reconcile.Attempt) {
	n, send := notification(a.target, at, a.prev)
	prev := at.Summary() // not the rendered objects: only the outcome is compared
	a.prev = &prev
	if !send {
		return
	}
	for _, nt := range a.opts.Notifiers {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := nt.Notify(ctx, n); err != nil {
			a.opts.Logger.Warn("notification not delivered", "event", n.Event, "err", err)
		}
		cancel()
	}
}
