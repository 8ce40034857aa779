package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/jobsync/jobsync/agent"
	"github.com/jobsync/jobsync/reconcile"
	"github.com/jobsync/jobsync/reconcile/cluster"
)

// inClusterNamespaceFile holds the namespace of the pod (the service
// account's), mounted in every pod.
const inClusterNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// clusterConfig is the cluster to talk to: its config, where it came from,
// and the namespace it implies (the pod's in a cluster, else the kubeconfig
// context's, else "default"), as kubectl and controllers choose it.
type clusterConfig struct {
	rest      *rest.Config
	from      string
	namespace string
}

// restConfig returns the cluster config, or nil when no cluster is configured.
func (k *kubeFlags) restConfig(env func(string) (string, bool)) (*clusterConfig, error) {
	if k.kubeconfig == "" && k.context == "" {
		if _, ok := env("KUBERNETES_SERVICE_HOST"); ok {
			cfg, err := rest.InClusterConfig()
			if err != nil {
				return nil, fmt.Errorf("in-cluster config: %w", err)
			}
			// As client-go's in-cluster config: POD_NAMESPACE, else the
			// service account's namespace file.
			ns, _ := env("POD_NAMESPACE")
			if b, err := os.ReadFile(inClusterNamespaceFile); ns == "" && err == nil {
				ns = strings.TrimSpace(string(b))
			}
			if ns == "" {
				ns = "default"
			}
			return &clusterConfig{rest: cfg, from: "in-cluster config", namespace: ns}, nil
		}
	}
	cc, rules := kubeClientConfig(k.kubeconfig, k.context, "")
	files := rules.GetLoadingPrecedence()
	if k.kubeconfig != "" {
		files = []string{k.kubeconfig}
	}
	found := ""
	for _, f := range files {
		if _, err := os.Stat(f); err == nil {
			found = f
			break
		}
	}
	if found == "" {
		if k.kubeconfig != "" {
			return nil, fmt.Errorf("--kubeconfig %s: no such file", k.kubeconfig)
		}
		return nil, nil
	}
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", found, err)
	}
	ns, _, err := cc.Namespace()
	if err != nil || ns == "" {
		ns = "default"
	}
	return &clusterConfig{rest: cfg, from: "kubeconfig " + found, namespace: ns}, nil
}

// openedTarget is the chosen target with what the agent needs around it.
type openedTarget struct {
	name, why string
	// namespace is for objects without one (and the cluster inventory's):
	// --namespace, else the cluster's (see clusterConfig), else "default".
	namespace string
	target    reconcile.Target
	runtime   agent.Runtime
	leader    *agent.LeaderElection
	// collectors are the target's own metrics, served on /metrics.
	collectors []prometheus.Collector
	// fleet is the run ledger and CronJob health (nil: none).
	fleet *agentFleet
	start func(ctx context.Context) error
	close func()
}

// openTarget picks and opens the target named by --target.
func openTarget(ctx context.Context, f agentFlags, log *slog.Logger) (*openedTarget, error) {
	env := func(k string) (string, bool) { return os.LookupEnv(k) }
	switch f.target {
	case "cluster", "auto":
		cc, err := f.kube.restConfig(env)
		if err != nil {
			return nil, err
		}
		if cc != nil {
			return openClusterTarget(cc, f, log)
		}
		if f.target == "cluster" {
			return nil, fmt.Errorf("--target cluster: no cluster configured (not in a cluster, no kubeconfig): use --kubeconfig, or --target embedded")
		}
		return openEmbeddedTarget(ctx, f, log, "auto: no in-cluster config and no kubeconfig found")
	case "embedded":
		return openEmbeddedTarget(ctx, f, log, "--target embedded")
	}
	return nil, fmt.Errorf("--target %q: use embedded, cluster or auto", f.target)
}

func openClusterTarget(cc *clusterConfig, f agentFlags, log *slog.Logger) (*openedTarget, error) {
	cfg, from, ns := cc.rest, cc.from, orDefault(f.namespace, cc.namespace)
	co := cluster.DefaultOptions()
	co.Sync, co.Namespace, co.AllowEmpty = f.sync, ns, f.allowEmpty
	co.QPS, co.Burst = f.kube.qps, f.kube.burst
	if id := f.replicaIdentity(); id != "" {
		co.EventInstance = id // Events say which replica applied
	}
	t, err := cluster.New(cfg, co)
	if err != nil {
		return nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster client: %w", err)
	}
	le := agent.DefaultLeaderElection()
	le.Client, le.Namespace = cs, co.Namespace
	ot := &openedTarget{name: "cluster", why: from, namespace: ns, target: t, leader: &le,
		start: func(context.Context) error { return nil }, close: func() {}}
	return ot, openClusterFleet(ot, cs, f, co.FieldManager, log)
}
