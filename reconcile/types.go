package reconcile

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/jobsync/jobsync/jobchange"
)

// Labels and annotations that jobsync reads or writes on the objects it owns.
const (
	// LabelManagedBy marks every object jobsync applies (value ManagedByValue).
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedByValue is the value of LabelManagedBy.
	ManagedByValue = "jobsync"
	// LabelSync names the sync (one agent configuration) that owns an object.
	LabelSync = "jobsync.io/sync"
	// AnnotationRevision records the source revision an object was applied from.
	AnnotationRevision = "jobsync.io/revision"
	// AnnotationSpecHash records the hash of the desired object jobsync applied.
	AnnotationSpecHash = "jobsync.io/spec-hash"
	// AnnotationPrune set to "disabled" keeps an object when it leaves Git.
	AnnotationPrune = "jobsync.io/prune"
	// AnnotationOnChange chooses how a changed Job is replaced:
	// "recreate-when-finished" (default), "recreate" or "ignore".
	AnnotationOnChange = jobchange.Annotation
	// AnnotationIgnore lists policy ids to suppress on one object ("id,id").
	AnnotationIgnore = "jobsync.io/ignore"
)

// Values of AnnotationOnChange.
const (
	OnChangeRecreateWhenFinished = string(jobchange.RecreateWhenFinished)
	OnChangeRecreate             = string(jobchange.Recreate)
	OnChangeIgnore               = string(jobchange.Ignore)
)

// ObjectRef names one object.
type ObjectRef struct {
	Group     string `json:"group,omitempty"`
	Version   string `json:"version,omitempty"`
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

// String renders the ref as Kind/namespace/name (Kind/name when cluster-scoped).
func (r ObjectRef) String() string {
	if r.Namespace == "" {
		return fmt.Sprintf("%s/%s", r.Kind, r.Name)
	}
	return fmt.Sprintf("%s/%s/%s", r.Kind, r.Namespace, r.Name)
}

// Key identifies the object regardless of API version.
func (r ObjectRef) Key() string {
	return r.Group + "/" + r.Kind + "/" + r.Namespace + "/" + r.Name
}

// RefOf returns the ref of an unstructured object.
//
// Its strings are copies: the decoded object's may be slices of its whole
// document, which a ref kept in an inventory would keep in memory (with
// 10,000 objects, ~30 MB).
func RefOf(u *unstructured.Unstructured) ObjectRef {
	gvk := u.GroupVersionKind()
	return ObjectRef{Group: strings.Clone(gvk.Group), Version: strings.Clone(gvk.Version), Kind: strings.Clone(gvk.Kind),
		Namespace: strings.Clone(u.GetNamespace()), Name: strings.Clone(u.GetName())}
}

// Desired is one object a revision wants to exist.
type Desired struct {
	Ref    ObjectRef
	Object *unstructured.Unstructured
	// Hash is SpecHash(Object): equal hashes mean nothing to apply.
	Hash string
	// Origin is "file:line" of the object in the source, for messages.
	Origin string
}

// InventoryEntry is one object a target applied for this sync.
type InventoryEntry struct {
	Ref      ObjectRef `json:"ref"`
	Hash     string    `json:"hash"`
	Revision string    `json:"revision,omitempty"`
	// PruneDisabled is true when the object carried jobsync.io/prune: disabled.
	PruneDisabled bool `json:"pruneDisabled,omitempty"`
}

// Inventory is what a target last applied for this sync, keyed by ObjectRef.Key().
type Inventory map[string]InventoryEntry

// Action is what a ChangeSet does to one object.
type Action string

// Actions of a Change.
const (
	ActionCreate    Action = "create"
	ActionUpdate    Action = "update"
	ActionRecreate  Action = "recreate"
	ActionPrune     Action = "prune"
	ActionUnchanged Action = "unchanged"
	// ActionOrphan: the object left Git but carries jobsync.io/prune: disabled;
	// it is dropped from the inventory and left in place.
	ActionOrphan Action = "orphan"
)

// Change is the planned action for one object.
type Change struct {
	Ref    ObjectRef `json:"ref"`
	Action Action    `json:"action"`
	// Reason says why, in words a user reads ("spec changed", "left Git").
	Reason string `json:"reason,omitempty"`
	// Desired is nil for prunes.
	Desired *Desired `json:"-"`
	// OldHash is the inventory hash the change replaces, if any.
	OldHash string `json:"oldHash,omitempty"`
}

// ChangeSet is the plan for one revision.
type ChangeSet struct {
	Revision string   `json:"revision"`
	Changes  []Change `json:"changes"`
}

// Count returns how many changes have the action.
func (cs ChangeSet) Count(a Action) int {
	n := 0
	for _, c := range cs.Changes {
		if c.Action == a {
			n++
		}
	}
	return n
}

// Outcome is what a target did with one change.
type Outcome struct {
	Change Change `json:"change"`
	// Done is false when the target deferred the change (e.g. a running Job
	// waits to finish before it is recreated); Reason says why.
	Done   bool   `json:"done"`
	Reason string `json:"reason,omitempty"`
	Err    string `json:"error,omitempty"`
}

// ApplyResult is what a target reports after Apply.
type ApplyResult struct {
	Outcomes []Outcome `json:"outcomes"`
	// Drift lists objects whose live state differed from Git and was put back.
	Drift []ObjectRef `json:"drift,omitempty"`
}

// Target applies change sets. Implementations: reconcile/cluster, reconcile/embedded.
type Target interface {
	// Name is "cluster" or "embedded".
	Name() string
	// Inventory returns what this target last applied for the sync.
	Inventory(ctx context.Context) (Inventory, error)
	// Apply carries out a change set and records the new inventory. It applies
	// in stages and never leaves a stage half-applied when it returns an error.
	Apply(ctx context.Context, cs ChangeSet) (ApplyResult, error)
}
