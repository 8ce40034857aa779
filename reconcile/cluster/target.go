package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/utils/clock"

	"github.com/jobsync/jobsync/reconcile"
)

// FieldManager is the default server-side apply field manager of every write.
const FieldManager = "jobsync"

// Propagation policies for deleting a Job before it is recreated.
const (
	PropagationForeground = "Foreground"
	PropagationBackground = "Background"
)

// Options configures a Target.
type Options struct {
	// Sync names the sync; it selects the objects and the inventory.
	Sync string
	// Namespace is the agent's namespace: the inventory ConfigMap lives there.
	Namespace string
	// FieldManager names jobsync's server-side applies (default FieldManager).
	FieldManager string
	// QPS and Burst limit the client's request rate.
	QPS   float32
	Burst int
	// Workers bounds the parallel requests within one stage.
	Workers int
	// AllowEmpty lets a change set that only prunes (an empty render) run.
	AllowEmpty bool
	// RecreatePropagation is how a Job is deleted before it is recreated
	// (PropagationForeground: its pods go first; or PropagationBackground).
	RecreatePropagation string
	// DeleteTimeout bounds the wait for a deleted Job to be gone.
	DeleteTimeout time.Duration
	// PollInterval is how often Wait and deletions check progress.
	PollInterval time.Duration
	// Clock drives waits.
	Clock clock.WithTicker
	// Events records a Kubernetes Event (events.k8s.io/v1) on every object
	// the target creates, updates, recreates, prunes or puts back after
	// drift, and a Warning on one it fails to apply or prune. Best effort:
	// an Event that cannot be recorded never fails the apply (EventStats
	// counts it).
	Events bool
	// MaxEvents bounds the Events of one Apply; the rest are dropped.
	MaxEvents int
	// EventInstance is the Events' reportingInstance, e.g. the pod name
	// (default "jobsync-<Sync>").
	EventInstance string
}

// DefaultOptions returns sync "default" with its inventory in namespace
// "default", field manager "jobsync", 200 QPS / 400 burst, 16 workers,
// Foreground deletion, a 2 m deletion timeout, and Events on (at most 200
// per apply).
func DefaultOptions() Options {
	return Options{
		Sync: "default", Namespace: "default", FieldManager: FieldManager, QPS: 200, Burst: 400, Workers: 16,
		RecreatePropagation: PropagationForeground, DeleteTimeout: 2 * time.Minute,
		PollInterval: 250 * time.Millisecond, Clock: clock.RealClock{},
		Events: true, MaxEvents: 200,
	}
}

// Target applies change sets to one cluster. It implements reconcile.Target.
type Target struct {
	opts   Options
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
	// events is nil when Options.Events is off.
	events *recorder
}

var _ reconcile.Target = (*Target)(nil)

// New returns a target for the cluster cfg points at. cfg is copied; Options
// QPS and Burst replace its rate limits.
func New(cfg *rest.Config, opts Options) (*Target, error) {
	if opts.Sync == "" {
		return nil, errors.New("cluster target: Options.Sync is empty: name the sync")
	}
	if opts.Namespace == "" {
		return nil, errors.New("cluster target: Options.Namespace is empty: name the namespace for the inventory")
	}
	def := DefaultOptions()
	if opts.FieldManager == "" {
		opts.FieldManager = def.FieldManager
	}
	if opts.Workers <= 0 {
		opts.Workers = def.Workers
	}
	if opts.RecreatePropagation == "" {
		opts.RecreatePropagation = def.RecreatePropagation
	}
	if opts.RecreatePropagation != PropagationForeground && opts.RecreatePropagation != PropagationBackground {
		return nil, fmt.Errorf("cluster target: RecreatePropagation %q: use %s or %s", opts.RecreatePropagation, PropagationForeground, PropagationBackground)
	}
	if opts.DeleteTimeout <= 0 {
		opts.DeleteTimeout = def.DeleteTimeout
	}
	if opts.PollInterval <= 0 {
		opts.PollInterval = def.PollInterval
	}
	if opts.Clock == nil {
		opts.Clock = def.Clock
	}
	if opts.MaxEvents <= 0 {
		opts.MaxEvents = def.MaxEvents
	}
	if opts.EventInstance == "" {
		opts.EventInstance = ReportingController + "-" + opts.Sync
	}
	c := rest.CopyConfig(cfg)
	if opts.QPS > 0 {
		c.QPS = opts.QPS
	}
	if opts.Burst > 0 {
		c.Burst = opts.Burst
	}
	if c.UserAgent == "" {
		c.UserAgent = "jobsync"
	}
	hc, err := rest.HTTPClientFor(c)
	if err != nil {
		return nil, fmt.Errorf("cluster target: http client: %w", err)
	}
	dyn, err := dynamic.NewForConfigAndClient(c, hc)
	if err != nil {
		return nil, fmt.Errorf("cluster target: dynamic client: %w", err)
	}
	disc, err := discovery.NewDiscoveryClientForConfigAndClient(c, hc)
	if err != nil {
		return nil, fmt.Errorf("cluster target: discovery client: %w", err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))
	t := &Target{opts: opts, dyn: dyn, mapper: mapper}
	if opts.Events {
		if t.events, err = newRecorder(c, hc, opts.EventInstance); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Name returns "cluster".
func (t *Target) Name() string { return "cluster" }

// resource is where an object lives in the API.
type resource struct {
	gvr        schema.GroupVersionResource
	namespaced bool
}

// mapping finds the resource of ref through discovery. A kind the cached
// discovery does not know (a CRD applied a moment ago) resets the cache and
// retries a few times.
func (t *Target) mapping(ctx context.Context, ref reconcile.ObjectRef) (resource, error) {
	gk := schema.GroupKind{Group: ref.Group, Kind: ref.Kind}
	var versions []string
	if ref.Version != "" {
		versions = []string{ref.Version}
	}
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		var m *meta.RESTMapping
		m, err = t.mapper.RESTMappingWithContext(ctx, gk, versions...)
		if err == nil {
			return resource{gvr: m.Resource, namespaced: m.Scope.Name() == meta.RESTScopeNameNamespace}, nil
		}
		if !meta.IsNoMatchError(err) {
			break
		}
		t.mapper.ResetWithContext(ctx)
		if attempt < 4 {
			if werr := t.sleep(ctx, time.Duration(attempt+1)*t.opts.PollInterval); werr != nil {
				return resource{}, werr
			}
		}
	}
	return resource{}, fmt.Errorf("%s: the API server does not serve %s: %w", ref, gk.WithVersion(ref.Version), err)
}

// client returns the dynamic client for ref, in its namespace when namespaced.
func (t *Target) client(res resource, ref reconcile.ObjectRef) (dynamic.ResourceInterface, error) {
	if !res.namespaced {
		return t.dyn.Resource(res.gvr), nil
	}
	if ref.Namespace == "" {
		return nil, fmt.Errorf("%s: namespaced kind without a namespace: set metadata.namespace or the sync's default namespace", ref)
	}
	return t.dyn.Resource(res.gvr).Namespace(ref.Namespace), nil
}

// sleep waits d on the target's clock, or until ctx ends.
func (t *Target) sleep(ctx context.Context, d time.Duration) error {
	tm := t.opts.Clock.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C():
		return nil
	}
}

// selector selects the objects of this sync.
func (t *Target) selector() string {
	return reconcile.LabelManagedBy + "=" + reconcile.ManagedByValue + "," + reconcile.LabelSync + "=" + t.opts.Sync
}
