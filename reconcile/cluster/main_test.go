package cluster_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"

	"github.com/jobsync/jobsync/internal/kubetest"
	"github.com/jobsync/jobsync/manifests"
	"github.com/jobsync/jobsync/reconcile"
	"github.com/jobsync/jobsync/reconcile/cluster"
)

// env is the one control plane of this package (etcd, kube-apiserver,
// kube-controller-manager; no scheduler, no kubelet).
var env *kubetest.Env

func TestMain(m *testing.M) {
	kubetest.Main(m, os.LookupEnv, func(e *kubetest.Env) { env = e })
}

// harness is one sync, in a namespace of its own, with a target whose
// requests are counted.
type harness struct {
	t       testing.TB
	ctx     context.Context
	ns      string
	tgt     *cluster.Target
	counter *kubetest.Counter
	dyn     dynamic.Interface
}

func newHarness(t testing.TB, mutate func(*cluster.Options)) *harness {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	ns, err := env.CreateNamespace(ctx, strings.ToLower(strings.NewReplacer("/", "-", "_", "-").Replace(t.Name())))
	if err != nil {
		t.Fatal(err)
	}
	cfg, counter := env.CountingConfig()
	h := &harness{t: t, ctx: ctx, ns: ns, counter: counter}
	opts := cluster.DefaultOptions()
	opts.Sync, opts.Namespace = ns, ns
	opts.QPS, opts.Burst = 500, 1000
	opts.PollInterval = 100 * time.Millisecond
	if mutate != nil {
		mutate(&opts)
	}
	h.tgt, err = cluster.New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	h.dyn = dynamic.NewForConfigOrDie(env.RESTConfig())
	return h
}

// desired turns YAML documents into the desired objects of the sync, labelled
// as the reconcile loop labels them.
func (h *harness) desired(rev string, docs ...string) []reconcile.Desired {
	h.t.Helper()
	results := make([]manifests.Result, 0, len(docs))
	for i, d := range docs {
		j, err := yaml.YAMLToJSON([]byte(d))
		if err != nil {
			h.t.Fatalf("doc %d: %v", i, err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(j); err != nil {
			h.t.Fatalf("doc %d: %v", i, err)
		}
		results = append(results, manifests.Result{File: fmt.Sprintf("doc%d.yaml", i), Line: 1, Unstructured: u})
	}
	ds, err := reconcile.DesiredFrom(results, h.ns, rev, h.ns)
	if err != nil {
		h.t.Fatal(err)
	}
	return ds
}

// reconcile plans the documents against the inventory and applies the plan,
// as the loop does. It returns the plan, the result and the writes it took.
func (h *harness) reconcile(rev string, docs ...string) (reconcile.ChangeSet, reconcile.ApplyResult, int64, error) {
	h.t.Helper()
	inv, err := h.tgt.Inventory(h.ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	cs, err := reconcile.Plan(rev, h.desired(rev, docs...), inv, reconcile.DefaultPlanOptions())
	if err != nil {
		h.t.Fatal(err)
	}
	before := h.counter.Writes()
	res, err := h.tgt.Apply(h.ctx, cs)
	return cs, res, h.counter.Writes() - before, err
}

func (h *harness) mustReconcile(rev string, docs ...string) (reconcile.ApplyResult, int64) {
	h.t.Helper()
	_, res, w, err := h.reconcile(rev, docs...)
	if err != nil {
		h.t.Fatalf("reconcile %s: %v\noutcomes: %+v", rev, err, res.Outcomes)
	}
	return res, w
}

var gvrs = map[string]schema.GroupVersionResource{
	"configmaps":      {Version: "v1", Resource: "configmaps"},
	"namespaces":      {Version: "v1", Resource: "namespaces"},
	"serviceaccounts": {Version: "v1", Resource: "serviceaccounts"},
	"jobs":            {Group: "batch", Version: "v1", Resource: "jobs"},
	"cronjobs":        {Group: "batch", Version: "v1", Resource: "cronjobs"},
}

// get reads a live object of this namespace ("" namespace for cluster-scoped kinds).
func (h *harness) get(resource, name string) (*unstructured.Unstructured, error) {
	gvr := gvrs[resource]
	if resource == "namespaces" {
		return h.dyn.Resource(gvr).Get(h.ctx, name, metav1.GetOptions{})
	}
	return h.dyn.Resource(gvr).Namespace(h.ns).Get(h.ctx, name, metav1.GetOptions{})
}

func (h *harness) mustGet(resource, name string) *unstructured.Unstructured {
	h.t.Helper()
	u, err := h.get(resource, name)
	if err != nil {
		h.t.Fatalf("%s/%s: %v", resource, name, err)
	}
	return u
}

// outcome returns the outcome for kind/name.
func outcome(t testing.TB, res reconcile.ApplyResult, kind, name string) reconcile.Outcome {
	t.Helper()
	for _, o := range res.Outcomes {
		if o.Change.Ref.Kind == kind && o.Change.Ref.Name == name {
			return o
		}
	}
	t.Fatalf("no outcome for %s %s in %+v", kind, name, res.Outcomes)
	return reconcile.Outcome{}
}

// eventually polls f every 200 ms until it returns nil or the timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s: %v", what, timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
