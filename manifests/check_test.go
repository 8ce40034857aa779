package manifests

import (
	"reflect"
	"testing"
)

// TestCheckEachAndDropLines: a hook run in Check's workers (Options.Each),
// with or without DropLines, gives the same findings, in the same order and
// with the same lines, as running the hook over Check's results afterwards.
// Every fixture appears twice, so every object also gets a duplicate error.
func TestCheckEachAndDropLines(t *testing.T) {
	var inputs []Input
	for _, fx := range loadFixtures(t) {
		inputs = append(inputs,
			Input{File: fx.name + ".yaml", Line: 1, Data: fx.data},
			Input{File: "again/" + fx.name + ".yaml", Line: 5, Data: fx.data})
	}
	hook := func(r *Result) {
		if !r.Checked {
			return
		}
		r.Errors = append(r.Errors, Finding{Field: "spec.template", Type: typeInvalid, Message: "hook error", Rule: "hook", Line: r.LineOf("spec.template")})
		r.Warnings = append(r.Warnings, Finding{Field: "metadata.labels", Message: "hook warning", Rule: "hook", Line: r.LineOf("metadata.labels")})
		r.Object, r.Unstructured = nil, nil
	}
	want := Check(inputs, DefaultOptions())
	for i := range want {
		hook(&want[i])
	}
	dups := 0
	for i := range want {
		for _, e := range want[i].Errors {
			if e.Type == "FieldValueDuplicate" {
				dups++
			}
		}
	}
	if dups < len(inputs)/4 {
		t.Fatalf("only %d duplicate errors in %d inputs: the test does not exercise them", dups, len(inputs))
	}
	for _, tc := range []struct {
		name      string
		dropLines bool
		workers   int
	}{
		{name: "each", workers: 2},
		{name: "each and drop lines", dropLines: true, workers: 2},
		{name: "one worker, drop lines", dropLines: true, workers: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := DefaultOptions()
			opts.Each, opts.DropLines, opts.Workers = hook, tc.dropLines, tc.workers
			got := Check(inputs, opts)
			for i := range want {
				if !reflect.DeepEqual(got[i].Errors, want[i].Errors) || !reflect.DeepEqual(got[i].Warnings, want[i].Warnings) {
					t.Fatalf("%s:%d: findings differ\n got errors %+v\nwant errors %+v\n got warnings %+v\nwant warnings %+v",
						got[i].File, got[i].Line, got[i].Errors, want[i].Errors, got[i].Warnings, want[i].Warnings)
				}
			}
		})
	}
}
