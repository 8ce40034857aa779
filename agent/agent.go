package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
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
	// Listen is a TCP address for /healthz, /readyz, /metrics and /status
	// ("" = none), e.g. ":8080".
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
}

// DefaultOptions returns options with no listeners and a 10 s shutdown.
func DefaultOptions() Options { return Options{ShutdownTimeout: 10 * time.Second} }

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
}

// New returns an agent for loop, whose target is named target.
func New(loop *reconcile.Loop, target string, opts Options) *Agent {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	a := &Agent{loop: loop, target: target, opts: opts, trigger: make(chan struct{}, 1)}
	a.metrics = newMetrics(opts.Registry, target)
	a.handler = a.routes()
	return a
}

// Handler is the agent's HTTP API (the same on the socket and on Listen).
func (a *Agent) Handler() http.Handler { return a.handler }

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

// Run serves the API and runs the loop until ctx ends; then it shuts the
// servers down. A reconcile in progress finishes its stage first (the loop
// checks ctx between stages).
func (a *Agent) Run(ctx context.Context) error {
	var servers []*http.Server
	var lis []net.Listener
	if a.opts.Socket != "" {
		l, err := listenUnix(a.opts.Socket)
		if err != nil {
			return err
		}
		lis = append(lis, l)
	}
	if a.opts.Listen != "" {
		l, err := net.Listen("tcp", a.opts.Listen)
		if err != nil {
			closeAll(lis)
			return fmt.Errorf("listen %s: %w", a.opts.Listen, err)
		}
		lis = append(lis, l)
	}
	errc := make(chan error, len(lis)+1)
	for _, l := range lis {
		srv := &http.Server{Handler: a.handler, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		go func(l net.Listener) {
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("serve %s: %w", l.Addr(), err)
			}
		}(l)
	}
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		if le := a.opts.LeaderElection; le != nil {
			if err := a.runLeading(ctx, *le, func(lctx context.Context) { a.loop.Run(lctx, a.trigger, a.observe) }); err != nil {
				errc <- err
			}
			return
		}
		a.setLeading(true)
		a.loop.Run(ctx, a.trigger, a.observe)
	}()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	<-loopDone
	sctx, cancel := context.WithTimeout(context.Background(), a.opts.ShutdownTimeout)
	defer cancel()
	for _, s := range servers {
		_ = s.Shutdown(sctx)
	}
	if a.opts.Socket != "" {
		_ = os.Remove(a.opts.Socket)
	}
	return err
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

// listenUnix listens on path, replacing a stale socket left by a crash but
// refusing to steal one that a running agent still answers on.
func listenUnix(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("socket dir: %w", err)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("socket %s: another agent is running on this state directory", path)
	}
	_ = os.Remove(path)
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	return l, nil
}

func closeAll(ls []net.Listener) {
	for _, l := range ls {
		l.Close()
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
