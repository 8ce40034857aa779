package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/jobsync/jobsync/reconcile"
)

func testRecords(n int, prefix string) records {
	recs := records{}
	for i := range n {
		h := sha256.Sum256(fmt.Appendf(nil, "%s%d", prefix, i))
		ref := reconcile.ObjectRef{Group: "batch", Version: "v1", Kind: "CronJob", Namespace: "apps", Name: fmt.Sprintf("%s-%05d", prefix, i)}
		recs[ref.Key()] = record{
			InventoryEntry: reconcile.InventoryEntry{Ref: ref, Hash: hex.EncodeToString(h[:16]), Revision: "main@sha1:" + hex.EncodeToString(h[:20])},
			UID:            hex.EncodeToString(h[4:20]), Fields: hex.EncodeToString(h[8:20]),
		}
	}
	return recs
}

func TestInventoryEncoding(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		wantErr string
	}{
		{name: "empty", n: 0},
		{name: "one", n: 1},
		{name: "ten thousand fit compressed", n: 10000},
		{name: "too many for one ConfigMap", n: 60000, wantErr: "split the repository into several syncs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs := testRecords(tc.n, "job")
			raw, err := encodeInventory(stored{Sync: "s", Records: recs.sorted()})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(raw) > 1<<20 {
				t.Errorf("encoded inventory is %d bytes, over 1 MiB", len(raw))
			}
			doc, err := decodeInventory(raw)
			if err != nil {
				t.Fatal(err)
			}
			got := records{}
			for _, r := range doc.Records {
				got[r.Ref.Key()] = r
			}
			if !got.equal(recs) {
				t.Errorf("round trip differs: %s", cmp.Diff(recs, got))
			}
		})
	}
}

func TestDecodeInventoryErrors(t *testing.T) {
	for name, raw := range map[string]string{"not base64": "%%%", "not gzip": "aGVsbG8=", "empty": ""} {
		t.Run(name, func(t *testing.T) {
			if _, err := decodeInventory(raw); err == nil {
				t.Errorf("decodeInventory(%q) = nil error", raw)
			}
		})
	}
}

func TestImmutable(t *testing.T) {
	gk := schema.GroupKind{Group: "batch", Kind: "Job"}
	tmpl := field.NewPath("spec", "template")
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"template immutable", apierrors.NewInvalid(gk, "a", field.ErrorList{field.Invalid(tmpl, "x", "field is immutable")}), true},
		{"immutable and another error", apierrors.NewInvalid(gk, "a", field.ErrorList{
			field.Invalid(tmpl, "x", "field is immutable"), field.Invalid(field.NewPath("spec", "parallelism"), -1, "must be greater than or equal to 0"),
		}), false},
		{"plain invalid", apierrors.NewInvalid(gk, "a", field.ErrorList{field.Required(tmpl, "")}), false},
		{"conflict", apierrors.NewConflict(schema.GroupResource{Group: "batch", Resource: "jobs"}, "a", fmt.Errorf("x")), false},
		{"not an API error", fmt.Errorf("boom"), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := immutable(fmt.Errorf("Job/ns/a: apply: %w", tc.err)); got != tc.want {
				t.Errorf("immutable(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
