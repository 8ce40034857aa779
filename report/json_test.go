package report

import (
	"bytes"
	"encoding/json"
	"slices"
	"sort"
	"testing"
)

// TestJSONContract checks -o json key for key against DESIGN.md: no key
// missing, none extra, and the types other tools rely on.
func TestJSONContract(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, FormatJSON, fixture(), DefaultOptions()); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	assertKeys(t, "document", doc, "results", "summary")
	assertKeys(t, "summary", doc["summary"].(map[string]any), "objects", "valid", "invalid", "warnings")
	results := doc["results"].([]any)
	if len(results) != len(fixture()) {
		t.Fatalf("%d results, want one per input (%d)", len(results), len(fixture()))
	}
	for _, r := range results {
		res := r.(map[string]any)
		assertKeys(t, "result", res, "file", "line", "apiVersion", "kind", "namespace", "name", "valid", "errors", "warnings")
		if _, ok := res["valid"].(bool); !ok {
			t.Errorf("valid is %T, want bool", res["valid"])
		}
		if _, ok := res["line"].(float64); !ok {
			t.Errorf("line is %T, want a number", res["line"])
		}
		errs, ok := res["errors"].([]any)
		if !ok {
			t.Fatalf("errors is %T, want an array (never null)", res["errors"])
		}
		for _, e := range errs {
			assertKeys(t, "error", e.(map[string]any), "field", "type", "message", "rule")
		}
		warns, ok := res["warnings"].([]any)
		if !ok {
			t.Fatalf("warnings is %T, want an array (never null)", res["warnings"])
		}
		for _, w := range warns {
			assertKeys(t, "warning", w.(map[string]any), "field", "message", "rule")
		}
		if res["valid"] != (len(errs) == 0) {
			t.Errorf("%v: valid=%v with %d errors", res["name"], res["valid"], len(errs))
		}
	}
}

func assertKeys(t *testing.T, what string, m map[string]any, want ...string) {
	t.Helper()
	got := make([]string, 0, len(m))
	for k := range m {
		got = append(got, k)
	}
	sort.Strings(got)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s keys %v, want exactly %v", what, got, want)
	}
}
