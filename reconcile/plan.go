package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// ErrEmptyRender is returned by Plan when a revision renders no objects while
// the inventory holds some: pruning everything is almost always an accident
// (a wrong path, a broken overlay), so it needs PlanOptions.AllowEmpty.
var ErrEmptyRender = errors.New("the revision renders no objects; refusing to prune everything it would remove (allow it with --allow-empty)")

// ErrDuplicate is returned by Plan when two desired objects share a ref.
var ErrDuplicate = errors.New("duplicate object")

// PlanOptions tunes Plan.
type PlanOptions struct {
	// AllowEmpty lets an empty render prune the whole inventory.
	AllowEmpty bool
}

// DefaultPlanOptions returns the safe defaults (empty renders refused).
func DefaultPlanOptions() PlanOptions { return PlanOptions{} }

// Plan compares the desired objects of a revision with a target's inventory and
// returns the change set: create what is new, update what changed (recreate for
// Jobs, whose pod template is immutable), prune what left Git (orphan it when it
// carries jobsync.io/prune: disabled), and keep the rest unchanged. It is pure.
// Changes are ordered by stage (namespaces and config before CronJobs and Jobs)
// then by ref; prunes come last, in reverse stage order.
func Plan(revision string, desired []Desired, inv Inventory, opts PlanOptions) (ChangeSet, error) {
	cs := ChangeSet{Revision: revision}
	if len(desired) == 0 && len(inv) > 0 && !opts.AllowEmpty {
		return cs, ErrEmptyRender
	}
	seen := make(map[string]bool, len(desired))
	for i := range desired {
		d := &desired[i]
		key := d.Ref.Key()
		if seen[key] {
			return cs, fmt.Errorf("%s: %w in the render (%s)", d.Ref, ErrDuplicate, d.Origin)
		}
		seen[key] = true
		cs.Changes = append(cs.Changes, planOne(d, inv))
	}
	var gone []Change
	for key, e := range inv {
		if seen[key] {
			continue
		}
		c := Change{Ref: e.Ref, Action: ActionPrune, Reason: "left Git", OldHash: e.Hash}
		if e.PruneDisabled {
			c.Action, c.Reason = ActionOrphan, "left Git; kept because of "+AnnotationPrune+": disabled"
		}
		gone = append(gone, c)
	}
	sortChanges(cs.Changes, false)
	sortChanges(gone, true)
	cs.Changes = append(cs.Changes, gone...)
	return cs, nil
}

func planOne(d *Desired, inv Inventory) Change {
	c := Change{Ref: d.Ref, Desired: d}
	old, ok := inv[d.Ref.Key()]
	switch {
	case !ok:
		c.Action, c.Reason = ActionCreate, "new in Git"
	case old.Hash == d.Hash:
		c.Action, c.OldHash = ActionUnchanged, old.Hash
	case IsJob(d.Ref):
		c.Action, c.Reason, c.OldHash = ActionRecreate, "spec changed; a Job's template is immutable", old.Hash
	default:
		c.Action, c.Reason, c.OldHash = ActionUpdate, "spec changed", old.Hash
	}
	return c
}

// IsJob reports whether ref names a batch Job.
func IsJob(ref ObjectRef) bool { return ref.Group == "batch" && ref.Kind == "Job" }

// IsCronJob reports whether ref names a batch CronJob.
func IsCronJob(ref ObjectRef) bool { return ref.Group == "batch" && ref.Kind == "CronJob" }

// Stage returns the apply stage of a kind: 0 for namespaces and definitions,
// 1 for what workloads reference (accounts, config, secrets, volumes, RBAC),
// 3 for CronJobs and Jobs, 2 for everything else. Targets apply stage by stage.
func Stage(ref ObjectRef) int {
	switch ref.Kind {
	case "Namespace", "CustomResourceDefinition", "PriorityClass":
		return 0
	case "ServiceAccount", "ConfigMap", "Secret", "PersistentVolumeClaim", "PersistentVolume",
		"Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding", "LimitRange", "ResourceQuota":
		return 1
	case "CronJob", "Job":
		if ref.Group == "batch" {
			return 3
		}
	}
	return 2
}

// Stages splits changes into consecutive groups of equal Stage, in order.
func Stages(changes []Change) [][]Change {
	var out [][]Change
	for i := 0; i < len(changes); {
		j := i + 1
		for j < len(changes) && Stage(changes[j].Ref) == Stage(changes[i].Ref) && isPrune(changes[j]) == isPrune(changes[i]) {
			j++
		}
		out = append(out, changes[i:j])
		i = j
	}
	return out
}

func isPrune(c Change) bool { return c.Action == ActionPrune || c.Action == ActionOrphan }

func sortChanges(cs []Change, reverseStage bool) {
	sort.SliceStable(cs, func(i, j int) bool {
		si, sj := Stage(cs[i].Ref), Stage(cs[j].Ref)
		if si != sj {
			if reverseStage {
				return si > sj
			}
			return si < sj
		}
		return cs[i].Ref.Key() < cs[j].Ref.Key()
	})
}

// SpecHash hashes what jobsync applies of an object: everything but status and
// the fields the server or jobsync itself set (uid, resourceVersion,
// managedFields, timestamps, jobsync's revision and hash annotations). Equal
// hashes mean there is nothing to apply.
func SpecHash(u *unstructured.Unstructured) (string, error) {
	obj := u.DeepCopy().Object
	delete(obj, "status")
	if md, ok := obj["metadata"].(map[string]any); ok {
		for _, f := range []string{"uid", "resourceVersion", "managedFields", "creationTimestamp", "generation", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"} {
			delete(md, f)
		}
		if ann, ok := md["annotations"].(map[string]any); ok {
			delete(ann, AnnotationRevision)
			delete(ann, AnnotationSpecHash)
			if len(ann) == 0 {
				delete(md, "annotations")
			}
		}
	}
	// encoding/json sorts map keys, so the bytes are canonical.
	b, err := json.Marshal(obj)
	if err != nil {
		return "", fmt.Errorf("%s: hash: %w", RefOf(u), err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16]), nil
}
