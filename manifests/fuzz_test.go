package manifests

import (
	"strings"
	"testing"
)

// FuzzCheck: decode, default and validate never panic on any bytes, and the
// results are well-formed.
func FuzzCheck(f *testing.F) {
	for _, fx := range loadFixtures(f) {
		f.Add(fx.data)
	}
	for _, s := range []string{"", "- a\n", "a: [1, 2\n", "apiVersion: v1\nkind: ConfigMap\n", validJob, "{}", "null", "apiVersion: batch/v1\nkind: CronJob\nspec: {schedule: \"TZ=x\"}\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rs := Check([]Input{{File: "fuzz.yaml", Line: 1, Data: data}, {File: "fuzz2.yaml", Line: 3, Data: data}}, DefaultOptions())
		if len(rs) != 2 {
			t.Fatalf("%d results for 2 inputs", len(rs))
		}
		for i := range rs {
			checkWellFormed(t, &rs[i])
		}
	})
}

func checkWellFormed(t *testing.T, r *Result) {
	t.Helper()
	for _, e := range r.Errors {
		if e.Type == "" || e.Rule == "" || e.Message == "" || e.Line < r.Line {
			t.Fatalf("malformed error %+v", e)
		}
		if !strings.HasPrefix(e.Type, "FieldValue") {
			t.Fatalf("unknown cause type %q", e.Type)
		}
	}
	for _, w := range r.Warnings {
		if w.Type != "" || w.Rule == "" || w.Message == "" || w.Line < r.Line {
			t.Fatalf("malformed warning %+v", w)
		}
	}
	if r.Checked && r.Valid() && r.Object == nil {
		t.Fatalf("valid checked result without an object: %+v", r)
	}
	if r.Object != nil && r.Unstructured == nil {
		t.Fatalf("typed object without the unstructured form")
	}
	_ = r.LineOf("spec.template.spec.containers[0].image")
}
