package cluster

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"sort"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/jobsync/jobsync/reconcile"
)

// Inventory ConfigMap layout.
const (
	// InventoryPrefix + sync is the name of the inventory ConfigMap.
	InventoryPrefix = "jobsync-inventory-"
	// LabelInventory marks an inventory ConfigMap with its sync.
	LabelInventory = "jobsync.io/inventory"
	// inventoryKey holds the gzip-compressed JSON records in binaryData.
	inventoryKey = "inventory.json.gz"
	// maxInventoryBytes keeps the ConfigMap well below etcd's 1 MiB object limit.
	maxInventoryBytes = 900 << 10
)

var configMaps = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}

// record is one inventory entry plus what the target needs to notice drift.
type record struct {
	reconcile.InventoryEntry
	// UID of the object jobsync applied.
	UID string `json:"uid,omitempty"`
	// Fields hashes jobsync's managed fields on the object right after it was
	// applied: a hand edit of any of them changes the live hash.
	Fields string `json:"fields,omitempty"`
	// Immutable is the hash of a desired Job spec the API server refused to
	// apply in place (immutable fields changed): the next reconciles go
	// straight to the recreate decision instead of trying again.
	Immutable string `json:"immutable,omitempty"`
}

// stored is the inventory document.
type stored struct {
	Sync    string   `json:"sync"`
	Records []record `json:"records"`
}

// records is the inventory in memory, keyed by ObjectRef.Key().
type records map[string]record

func (t *Target) inventoryName() string { return InventoryPrefix + t.opts.Sync }

func (t *Target) inventoryRef() reconcile.ObjectRef {
	return reconcile.ObjectRef{Version: "v1", Kind: "ConfigMap", Namespace: t.opts.Namespace, Name: t.inventoryName()}
}

// Inventory returns what the target last applied for the sync (empty when
// it never applied anything).
func (t *Target) Inventory(ctx context.Context) (reconcile.Inventory, error) {
	recs, err := t.loadRecords(ctx)
	if err != nil {
		return nil, err
	}
	inv := make(reconcile.Inventory, len(recs))
	for k, r := range recs {
		inv[k] = r.InventoryEntry
	}
	return inv, nil
}

func (t *Target) loadRecords(ctx context.Context) (records, error) {
	ref := t.inventoryRef()
	cm, err := t.dyn.Resource(configMaps).Namespace(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return records{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: read inventory: %w", ref, err)
	}
	raw, found, err := unstructured.NestedString(cm.Object, "binaryData", inventoryKey)
	if err != nil || !found {
		return nil, fmt.Errorf("%s: inventory has no binaryData %q: delete the ConfigMap to start a new inventory", ref, inventoryKey)
	}
	doc, err := decodeInventory(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ref, err)
	}
	recs := make(records, len(doc.Records))
	for _, r := range doc.Records {
		recs[r.Ref.Key()] = r
	}
	return recs, nil
}

// saveRecords writes the inventory with server-side apply.
func (t *Target) saveRecords(ctx context.Context, recs records) error {
	ref := t.inventoryRef()
	raw, err := encodeInventory(stored{Sync: t.opts.Sync, Records: recs.sorted()})
	if err != nil {
		return fmt.Errorf("%s: %w", ref, err)
	}
	cm := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{
			"name": ref.Name, "namespace": ref.Namespace,
			"labels": map[string]any{reconcile.LabelManagedBy: reconcile.ManagedByValue, LabelInventory: t.opts.Sync},
		},
		"binaryData": map[string]any{inventoryKey: raw},
	}}
	_, err = t.dyn.Resource(configMaps).Namespace(ref.Namespace).Apply(ctx, ref.Name, cm, metav1.ApplyOptions{FieldManager: t.opts.FieldManager, Force: true})
	if err != nil {
		return fmt.Errorf("%s: write inventory: %w", ref, err)
	}
	return nil
}

func (r records) sorted() []record {
	out := make([]record, 0, len(r))
	for _, v := range r {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref.Key() < out[j].Ref.Key() })
	return out
}

// equal reports whether two inventories hold the same records.
func (r records) equal(o records) bool {
	if len(r) != len(o) {
		return false
	}
	for k, v := range r {
		if w, ok := o[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// encodeInventory returns the gzip-compressed JSON, base64-encoded as
// binaryData wants it. Compressed, ~1,000 records take a few tens of KiB.
func encodeInventory(doc stored) (string, error) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(doc); err != nil {
		return "", fmt.Errorf("encode inventory: %w", err)
	}
	if err := zw.Close(); err != nil {
		return "", fmt.Errorf("compress inventory: %w", err)
	}
	if buf.Len() > maxInventoryBytes {
		return "", fmt.Errorf("inventory of %d objects is %d KiB compressed, over the %d KiB a ConfigMap can hold: split the repository into several syncs",
			len(doc.Records), buf.Len()>>10, maxInventoryBytes>>10)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

func decodeInventory(raw string) (stored, error) {
	var doc stored
	gz, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return doc, fmt.Errorf("inventory is not base64: %w", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return doc, fmt.Errorf("inventory is not gzip: %w", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return doc, fmt.Errorf("inventory is not gzip: %w", err)
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return doc, fmt.Errorf("inventory is not JSON: %w", err)
	}
	return doc, nil
}
