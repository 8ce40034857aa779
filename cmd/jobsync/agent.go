package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/leaderelection"

	"github.com/jobsync/jobsync/agent"
	"github.com/jobsync/jobsync/internal/privdir"
	"github.com/jobsync/jobsync/reconcile"
)

// agentFlags are the agent's settings; every one is also an env variable.
type agentFlags struct {
	repo, ref, path, target, stateDir, sync, namespace, listen string
	interval                                                   time.Duration
	jitter                                                     float64
	debounce                                                   time.Duration
	allowEmpty                                                 bool
	logFormat, logLevel                                        string
	webhookSecretFile                                          string
	controlTokenFile                                           string
	notifyURL, notifySecretFile                                string
	leaderElect                                                bool
	leaseName, identity                                        string
	leaseDuration, renewDeadline, retryPeriod                  time.Duration
	kube                                                       kubeFlags
	git                                                        agentGitFlags
	embedded                                                   agentEmbeddedFlags
	render                                                     renderLimitFlags
	fleet                                                      fleetFlags
}

func newAgentCmd(s streams) *cobra.Command {
	f := agentFlags{}
	c := &cobra.Command{
		Use:   "agent --repo URL|PATH [--ref REF] [--path DIR] [--target embedded|cluster|auto]",
		Short: "Sync a Git repository of Jobs and CronJobs to a cluster, or run them here",
		Long: `agent reconciles a repository on every tick (--interval, with jitter), at once
on SIGHUP, on ` + "`jobsync reconcile`" + ` and on a signed webhook push:
fetch → render → validate (any error rejects the whole revision; the last good
one stays live) → plan against the target's inventory → apply → prune.

Targets: "cluster" applies with server-side apply (in-cluster config or
--kubeconfig); "embedded" runs the CronJobs and Jobs itself, as local processes,
with state and logs in --state-dir; "auto" picks cluster when a cluster is
configured (in-cluster, or a kubeconfig), else embedded, and says which.

--repo is a Git URL (https, ssh, git, file) or a local path. A local path is
read as it is (a Git working tree: HEAD plus uncommitted changes; a plain
directory: its content) unless --ref is given, which fetches that ref from it.

SIGTERM or SIGINT cancels a render under way (nothing of it is applied) and
otherwise lets the reconcile under way finish (no stage is left half applied),
then exits 0. Every flag can also be set from the environment:
JOBSYNC_ and the flag name in upper case, dashes as underscores
(--webhook-secret-file is JOBSYNC_WEBHOOK_SECRET_FILE).`,
		Example: `  # run the bundled examples locally, no cluster needed
  jobsync agent --repo ./examples --path overlays/dev --target embedded

  # in a cluster, from GitHub, with a webhook for immediate syncs
  jobsync agent --repo https://github.com/acme/batch.git --ref main --path overlays/prod \
    --target cluster --namespace batch --listen :8080 --webhook-secret-file /etc/jobsync/git/webhook-secret`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runAgent(cmd.Context(), s, f) },
	}
	fl := c.Flags()
	fl.StringVar(&f.repo, "repo", "", "Git URL or local path of the repository (required)")
	fl.StringVar(&f.ref, "ref", "", "branch, tag, semver range (\">=1.2.0 <2.0.0\") or commit; default: the remote's default branch, or a local path as it is")
	fl.StringVar(&f.path, "path", "", "directory inside the repository to render (kustomization or plain YAML)")
	fl.StringVar(&f.target, "target", "auto", "where to apply: embedded, cluster or auto")
	fl.StringVar(&f.stateDir, "state-dir", defaultStateDir, "state directory: Git cache, embedded store and logs, the agent's socket")
	fl.StringVar(&f.sync, "sync-name", "default", "name of this sync: labels every applied object, names the inventory")
	fl.StringVarP(&f.namespace, "namespace", "n", "", "namespace for namespaced objects without one (cluster target: also the inventory's and the lease's); default: cluster target in a pod the pod's, else the kubeconfig context's, else \"default\"; embedded target \"default\"")
	fl.DurationVar(&f.interval, "interval", time.Minute, "time between reconciles")
	fl.Float64Var(&f.jitter, "jitter", 0.1, "random extra delay, as a fraction of --interval")
	fl.DurationVar(&f.debounce, "debounce", time.Second, "pushes (webhooks, jobsync reconcile) within this long of the last reconcile's start join one reconcile")
	fl.BoolVar(&f.allowEmpty, "allow-empty", false, "allow a revision that renders no objects (prunes everything)")
	fl.StringVar(&f.listen, "listen", "", "TCP address for /healthz, /readyz, /metrics, /status and /hooks/* (e.g. :8080); the control API (/v1/...) stays on the unix socket")
	fl.StringVar(&f.controlTokenFile, "control-token-file", "", "file with a bearer token; also serves the control API (/v1/...) on --listen to requests with \"Authorization: Bearer <token>\"")
	fl.StringVar(&f.webhookSecretFile, "webhook-secret-file", "", "file with the webhook secret; enables /hooks/github, /hooks/gitlab, /hooks/generic")
	fl.StringVar(&f.notifyURL, "notify-url", "", "POST a JSON notification here when a revision is applied or fails")
	fl.StringVar(&f.notifySecretFile, "notify-secret-file", "", "file with the HMAC key that signs notifications (X-Jobsync-Signature-256)")
	fl.BoolVar(&f.leaderElect, "leader-elect", false, "cluster target: only the replica holding a Lease reconciles")
	fl.StringVar(&f.leaseName, "lease-name", "", "Lease name for --leader-elect (default jobsync-<sync-name>)")
	fl.StringVar(&f.identity, "identity", "", "this replica's identity for --leader-elect (default: hostname)")
	dle := agent.DefaultLeaderElection()
	fl.DurationVar(&f.leaseDuration, "leader-elect-lease-duration", dle.LeaseDuration, "--leader-elect: how long standbys wait after the last renewal before taking the Lease over")
	fl.DurationVar(&f.renewDeadline, "leader-elect-renew-deadline", dle.RenewDeadline, "--leader-elect: how long the leader keeps retrying a renewal before it stops reconciling (less than the lease duration)")
	fl.DurationVar(&f.retryPeriod, "leader-elect-retry-period", dle.RetryPeriod, "--leader-elect: time between attempts to acquire or renew the Lease")
	fl.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	fl.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	f.kube.register(c)
	f.git.register(c)
	f.embedded.register(c)
	f.render.register(c)
	f.fleet.register(c)
	return c
}

func runAgent(parent context.Context, s streams, f agentFlags) error {
	log, err := newLogger(s, f.logFormat, f.logLevel)
	if err != nil {
		return withCode(exitUsage, err)
	}
	if f.repo == "" {
		return withCode(exitUsage, fmt.Errorf("--repo is required: a Git URL or a local path"))
	}
	if err := privdir.Dir(f.stateDir); err != nil {
		return withCode(exitUsage, fmt.Errorf("state directory: %w", err))
	}
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	// 1. the source of revisions.
	src, desc, err := f.git.source(f.repo, f.ref, filepath.Join(f.stateDir, "git"), s.env, log)
	if err != nil {
		return withCode(exitUsage, err)
	}
	// 2. the target, chosen and said out loud.
	tgt, err := openTarget(ctx, f, log)
	if err != nil {
		return withCode(exitUsage, err)
	}
	defer tgt.close()
	log.Info("agent starting", "source", desc, "path", displayPath(f.path), "target", tgt.name, "why", tgt.why,
		"namespace", tgt.namespace, "stateDir", f.stateDir, "interval", f.interval.String())
	// 3. the loop and the agent around it.
	lo := reconcile.DefaultLoopOptions()
	lo.Sync, lo.Namespace, lo.Interval, lo.Jitter = f.sync, tgt.namespace, f.interval, f.jitter
	lo.Debounce, lo.Path = f.debounce, filepath.FromSlash(f.path)
	lo.Plan.AllowEmpty = f.allowEmpty
	lo.Render = f.render.options()
	// Nothing drifts in the embedded target: a tick of the applied revision
	// stops after the fetch.
	lo.SkipUnchanged = tgt.name == "embedded"
	loop := reconcile.NewLoop(src, tgt.target, lo)
	ao, err := f.agentOptions(log, tgt)
	if err != nil {
		return withCode(exitUsage, err)
	}
	ao.Pages = webPages(loop, tgt)
	a := agent.New(loop, tgt.name, ao)
	// 4. SIGHUP reconciles now.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for range hup {
			log.Info("SIGHUP: reconciling now")
			a.Reconcile()
		}
	}()
	// 5. run until SIGTERM/SIGINT; the reconcile under way finishes first.
	if tgt.fleet != nil {
		tgt.fleet.run(ctx, f.fleet, tgt.name, ao.Notifiers, a.Leading, log)
	}
	if err := tgt.start(ctx); err != nil {
		return err
	}
	if tgt.fleet != nil {
		tgt.fleet.markStarted() // health evaluates from now on (agentFleet.ready)
	}
	err = a.Run(ctx)
	log.Info("agent stopped")
	return err
}

func (f agentFlags) agentOptions(log *slog.Logger, tgt *openedTarget) (agent.Options, error) {
	ao := agent.DefaultOptions()
	ao.Socket = filepath.Join(f.stateDir, agent.SocketName)
	ao.Listen, ao.Logger, ao.Runtime = f.listen, log, tgt.runtime
	if len(tgt.collectors) > 0 {
		ao.Registry = prometheus.NewRegistry()
		ao.Registry.MustRegister(tgt.collectors...)
	}
	if f.webhookSecretFile != "" {
		secret, err := readSecretFile(f.webhookSecretFile, "--webhook-secret-file")
		if err != nil {
			return ao, err
		}
		wo := agent.DefaultWebhookOptions()
		wo.Secret = secret
		ao.Webhook = &wo
	}
	if f.controlTokenFile != "" {
		if f.listen == "" {
			return ao, fmt.Errorf("--control-token-file needs --listen: the socket needs no token")
		}
		token, err := readSecretFile(f.controlTokenFile, "--control-token-file")
		if err != nil {
			return ao, err
		}
		ao.ControlToken = token
	}
	if f.notifyURL != "" {
		n := &agent.WebhookNotifier{URL: f.notifyURL}
		if f.notifySecretFile != "" {
			secret, err := readSecretFile(f.notifySecretFile, "--notify-secret-file")
			if err != nil {
				return ao, err
			}
			n.Secret = secret
		}
		ao.Notifiers = append(ao.Notifiers, n)
	}
	slack, err := f.fleet.notifiers()
	if err != nil {
		return ao, err
	}
	ao.Notifiers = append(ao.Notifiers, slack...)
	if tgt.fleet != nil {
		ao.Fleet = tgt.fleet.view
	}
	if f.leaderElect {
		if tgt.leader == nil {
			return ao, fmt.Errorf("--leader-elect needs the cluster target (it is %s)", tgt.name)
		}
		le := *tgt.leader
		le.LeaseDuration, le.RenewDeadline, le.RetryPeriod = f.leaseDuration, f.renewDeadline, f.retryPeriod
		if f.retryPeriod <= 0 || float64(f.renewDeadline) <= leaderelection.JitterFactor*float64(f.retryPeriod) || f.leaseDuration <= f.renewDeadline {
			return ao, fmt.Errorf("--leader-elect-lease-duration %s, --leader-elect-renew-deadline %s, --leader-elect-retry-period %s: need lease duration > renew deadline > 1.2 × retry period > 0",
				f.leaseDuration, f.renewDeadline, f.retryPeriod)
		}
		le.Name = orDefault(f.leaseName, "jobsync-"+f.sync)
		if le.Identity = f.replicaIdentity(); le.Identity == "" {
			return ao, fmt.Errorf("--leader-elect: no --identity given and no host name to use instead")
		}
		ao.LeaderElection = &le
	}
	return ao, nil
}

// replicaIdentity names this replica: --identity, else the host name (the
// pod name in a cluster), else "".
func (f agentFlags) replicaIdentity() string {
	if f.identity != "" {
		return f.identity
	}
	h, _ := os.Hostname()
	return h
}

func newLogger(s streams, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	o := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(s.err, o)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(s.err, o)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", format)
}

func readSecretFile(path, flag string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	b = trimNewline(b)
	if len(b) == 0 {
		return nil, fmt.Errorf("%s: %s is empty", flag, path)
	}
	return b, nil
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func displayPath(p string) string { return orDefault(p, ".") }
