package embedded

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/jobsync/jobsync/reconcile"
)

// Override is a local suspend/resume of a CronJob (jobsync suspend|resume).
// It wins over Git's spec.suspend until Git itself changes spec.suspend (then
// Git wins and the override is dropped) or the opposite command is given.
type Override struct {
	// Suspend is the value the user asked for.
	Suspend bool `json:"suspend"`
	// GitSuspend is Git's spec.suspend when the override was set.
	GitSuspend bool      `json:"gitSuspend"`
	Time       time.Time `json:"time"`
}

// cache is the engine's in-memory copy of the store (like an informer cache):
// controllers read it, and write through a batch that commits to the store.
// Objects in the maps are never mutated in place: writers store a new copy.
type cache struct {
	cronJobs map[string]storedCronJob
	jobs     map[string]*batchv1.Job
	pods     map[string]*corev1.Pod
	objects  map[string]*unstructured.Unstructured
	// overrides are the local suspend/resume overrides, by CronJob key.
	overrides map[string]Override
	inventory reconcile.Inventory
	revision  string

	jobsByOwner map[types.UID]map[string]struct{}
	podsByOwner map[types.UID]map[string]struct{}
	// done holds finished Jobs in summary form (see coolJob); their pods are
	// not in pods. The store has them in full.
	done map[string]*doneJob

	refs *refs
}

func newCache() *cache {
	return &cache{
		cronJobs: map[string]storedCronJob{}, jobs: map[string]*batchv1.Job{}, pods: map[string]*corev1.Pod{},
		objects: map[string]*unstructured.Unstructured{}, overrides: map[string]Override{}, inventory: reconcile.Inventory{},
		jobsByOwner: map[types.UID]map[string]struct{}{}, podsByOwner: map[types.UID]map[string]struct{}{},
		done: map[string]*doneJob{},
		refs: &refs{cms: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{}},
	}
}

// loadCache reads the whole store into a new cache.
func loadCache(s *Store) (*cache, error) {
	c := newCache()
	err := s.View(func(tx *Tx) error {
		var err error
		if ferr := forEachTyped(tx, KindCronJob, func(key string, o *batchv1.CronJob) { err = errors.Join(err, c.setCronJob(key, o)) }); ferr != nil || err != nil {
			return errors.Join(ferr, err)
		}
		if err := forEachTyped(tx, KindJob, func(key string, o *batchv1.Job) { c.setJob(key, o) }); err != nil {
			return err
		}
		if err := forEachTyped(tx, KindPod, func(key string, o *corev1.Pod) { c.setPod(key, o) }); err != nil {
			return err
		}
		for key := range c.jobs {
			c.coolJob(key)
		}
		if err := forEachTyped(tx, KindConfigMap, func(key string, o *corev1.ConfigMap) { c.refs.cms[key] = o }); err != nil {
			return err
		}
		if err := forEachTyped(tx, KindSecret, func(key string, o *corev1.Secret) { c.refs.secrets[key] = o }); err != nil {
			return err
		}
		if err := forEachTyped(tx, KindObject, func(key string, o *unstructured.Unstructured) { c.objects[key] = o }); err != nil {
			return err
		}
		if err := forEachTyped(tx, KindOverride, func(key string, o *Override) { c.overrides[key] = *o }); err != nil {
			return err
		}
		inv, rev, err := tx.Inventory()
		c.inventory, c.revision = inv, rev
		return err
	})
	return c, err
}

// storedCronJob is a CronJob as the cache holds it: its protobuf encoding
// (what the store holds), decoded by cronJob when used. Decoded, each of
// 10,000s of CronJobs would take ~2.3 KB of memory, against ~300 bytes.
type storedCronJob struct {
	uid types.UID
	raw []byte
}

// cronJob returns a decoded copy of the CronJob (the caller may change it),
// nil when there is none.
func (c *cache) cronJob(key string) (*batchv1.CronJob, error) {
	s, ok := c.cronJobs[key]
	if !ok {
		return nil, nil
	}
	cj := &batchv1.CronJob{}
	if err := cj.Unmarshal(s.raw); err != nil {
		return nil, fmt.Errorf("CronJob/%s: decode: %w", key, err)
	}
	// The protobuf encoding has no apiVersion and kind.
	cj.TypeMeta = metav1.TypeMeta{APIVersion: "batch/v1", Kind: "CronJob"}
	return cj, nil
}

// setCronJob keeps the encoding of cj (not cj itself).
func (c *cache) setCronJob(key string, cj *batchv1.CronJob) error {
	raw, err := cj.Marshal()
	if err != nil {
		return fmt.Errorf("CronJob/%s: encode: %w", key, err)
	}
	c.cronJobs[key] = storedCronJob{uid: cj.UID, raw: raw}
	return nil
}

func forEachTyped[T any](tx *Tx, k Kind, set func(key string, o *T)) error {
	return tx.ForEach(k, func(key string, data []byte) error {
		o := new(T)
		if err := decode(data, any(o)); err != nil {
			return fmt.Errorf("%s/%s: decode: %w", k, key, err)
		}
		set(key, o)
		return nil
	})
}

// controllerUID returns the UID of the object's controller owner, if any.
func controllerUID(refs []metav1.OwnerReference) types.UID {
	for _, r := range refs {
		if r.Controller != nil && *r.Controller {
			return r.UID
		}
	}
	return ""
}

func (c *cache) setPod(key string, p *corev1.Pod) {
	if old := c.pods[key]; old != nil {
		removeIndex(c.podsByOwner, controllerUID(old.OwnerReferences), key)
	}
	c.pods[key] = p
	addIndex(c.podsByOwner, controllerUID(p.OwnerReferences), key)
}

func addIndex(idx map[types.UID]map[string]struct{}, uid types.UID, key string) {
	if uid == "" {
		return
	}
	m := idx[uid]
	if m == nil {
		m = map[string]struct{}{}
		idx[uid] = m
	}
	m[key] = struct{}{}
}

func removeIndex(idx map[types.UID]map[string]struct{}, uid types.UID, key string) {
	if m := idx[uid]; m != nil {
		delete(m, key)
		if len(m) == 0 {
			delete(idx, uid)
		}
	}
}

// podsOf returns the Pods in memory controlled by the Job (all of them
// unless the Job is cold), sorted by creation then name.
func (c *cache) podsOf(owner types.UID) []*corev1.Pod {
	keys := c.podsByOwner[owner]
	out := make([]*corev1.Pod, 0, len(keys))
	for k := range keys {
		if p := c.pods[k]; p != nil {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Name < b.Name
	})
	return out
}

func sortedKeys(m map[string]struct{}) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// refs holds the ConfigMaps and Secrets of the render. It has its own lock:
// the executor may read it from its goroutines at any time.
type refs struct {
	mu      sync.RWMutex
	cms     map[string]*corev1.ConfigMap
	secrets map[string]*corev1.Secret
}

// ConfigMap implements podexec.Lookup.
func (r *refs) ConfigMap(ns, name string) (*corev1.ConfigMap, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	cm, ok := r.cms[Key(ns, name)]
	return cm, ok
}

// Secret implements podexec.Lookup.
func (r *refs) Secret(ns, name string) (*corev1.Secret, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	s, ok := r.secrets[Key(ns, name)]
	return s, ok
}

func (r *refs) setConfigMap(key string, cm *corev1.ConfigMap) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if cm == nil {
		delete(r.cms, key)
		return
	}
	r.cms[key] = cm
}

func (r *refs) setSecret(key string, s *corev1.Secret) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s == nil {
		delete(r.secrets, key)
		return
	}
	r.secrets[key] = s
}
