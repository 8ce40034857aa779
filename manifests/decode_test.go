package manifests

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

const validJob = `apiVersion: batch/v1
kind: Job
metadata:
  name: report
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox:1.36
`

// TestDecodeInputs covers documents that are not (valid) Kubernetes objects.
func TestDecodeInputs(t *testing.T) {
	tests := []struct {
		name      string
		in        Input
		valid     bool
		checked   bool
		kind      string
		wantField string
		wantMsg   string // substring of the first error (or warning when valid)
		wantLine  int
	}{
		{name: "empty file", in: Input{File: "e.yaml", Line: 1}, valid: true, wantMsg: "no objects in file", wantLine: 1},
		{name: "only comments", in: Input{File: "c.yaml", Line: 3, Data: []byte("# nothing here\n\n")}, valid: true, wantMsg: "no objects in file", wantLine: 3},
		{name: "render error", in: Input{File: "k.yaml", Line: 1, Err: errors.New("kustomize: accumulating resources: missing.yaml not found")}, wantMsg: "missing.yaml not found"},
		{name: "scalar", in: Input{File: "s.yaml", Line: 1, Data: []byte("hello\n")}, wantMsg: "document is a string, not a Kubernetes object"},
		{name: "list", in: Input{File: "l.yaml", Line: 1, Data: []byte("- a\n- b\n")}, wantMsg: "document is a list, not a Kubernetes object"},
		{name: "no apiVersion", in: Input{File: "m.yaml", Line: 1, Data: []byte("kind: Job\nmetadata: {name: x}\n")}, kind: "Job", wantField: "apiVersion", wantMsg: "apiVersion must be set"},
		{name: "no kind", in: Input{File: "m.yaml", Line: 1, Data: []byte("apiVersion: v1\nfoo: bar\n")}, wantField: "kind", wantMsg: "kind must be set"},
		{name: "not yaml", in: Input{File: "b.yaml", Line: 10, Data: []byte("a: b\n  c: d\n")}, wantMsg: "mapping values are not allowed", wantLine: 11},
		{name: "duplicate key", in: Input{File: "d.yaml", Line: 5, Data: []byte("apiVersion: batch/v1\nkind: Job\nkind: Job\n")}, wantMsg: `key "kind" already set`, wantLine: 7},
		{name: "other kind", in: Input{File: "cm.yaml", Line: 1, Data: []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: b}\n")}, valid: true, kind: "ConfigMap"},
		{name: "other kind unknown fields unchecked", in: Input{File: "ns.yaml", Line: 1, Data: []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\nwhatever: 1\n")}, valid: true, kind: "Namespace"},
		{name: "batch v2alpha1", in: Input{File: "v.yaml", Line: 1, Data: []byte(strings.Replace(validJob, "batch/v1", "batch/v2alpha1", 1))}, checked: true, kind: "Job", wantField: "apiVersion", wantMsg: "use apiVersion: batch/v1"},
		{name: "too big", in: Input{File: "big.yaml", Line: 1, Data: []byte(validJob + "# " + strings.Repeat("x", 4<<20) + "\n")}, wantMsg: "more than the limit"},
		{name: "valid job", in: Input{File: "j.yaml", Line: 1, Data: []byte(validJob)}, valid: true, checked: true, kind: "Job"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Check([]Input{tc.in}, DefaultOptions())[0]
			if r.Valid() != tc.valid || r.Checked != tc.checked || r.Kind != tc.kind {
				t.Fatalf("valid=%v checked=%v kind=%q, want %v %v %q; errors %+v", r.Valid(), r.Checked, r.Kind, tc.valid, tc.checked, tc.kind, r.Errors)
			}
			fs := r.Errors
			if tc.valid {
				fs = r.Warnings
			}
			if tc.wantMsg == "" {
				if len(fs) != 0 {
					t.Fatalf("unexpected findings %+v", fs)
				}
				return
			}
			if len(fs) == 0 {
				t.Fatalf("no finding, want %q", tc.wantMsg)
			}
			f := fs[0]
			if f.Field != tc.wantField || !strings.Contains(f.Message, tc.wantMsg) || f.Rule != RuleUpstream {
				t.Errorf("got %+v, want field %q message containing %q", f, tc.wantField, tc.wantMsg)
			}
			if !tc.valid && f.Type == "" {
				t.Errorf("error without a type: %+v", f)
			}
			if want := max(tc.wantLine, tc.in.Line); f.Line != want {
				t.Errorf("line %d, want %d", f.Line, want)
			}
		})
	}
}

// TestAliasBomb: a billion-laughs document is refused quickly, in bounded memory.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: bomb\n  annotations:\n    a0: &a0 \"lol\"\n")
	for i := 1; i < 10; i++ {
		fmt.Fprintf(&b, "    a%d: &a%d [", i, i)
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "*a%d", i-1)
		}
		b.WriteString("]\n")
	}
	b.WriteString("spec: {}\n")
	start := time.Now()
	r := Check([]Input{{File: "bomb.yaml", Line: 1, Data: []byte(b.String())}}, DefaultOptions())[0]
	if r.Valid() {
		t.Fatal("alias bomb accepted")
	}
	if !strings.Contains(r.Errors[0].Message, "excessive aliasing") {
		t.Errorf("message %q, want excessive aliasing", r.Errors[0].Message)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	_ = r.LineOf("metadata.annotations.a9") // the line index must not expand aliases either
}

// TestDeepNesting: deeply nested input is an error, not a stack overflow.
func TestDeepNesting(t *testing.T) {
	data := "apiVersion: batch/v1\nkind: Job\nmetadata: {name: deep}\nspec: " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\n"
	r := Check([]Input{{File: "deep.yaml", Line: 1, Data: []byte(data)}}, DefaultOptions())[0]
	if r.Valid() {
		t.Fatal("deep nesting accepted")
	}
}

// TestDuplicateObjects: the same Kind/namespace/name twice is an error on
// the second, naming the first's file and line.
func TestDuplicateObjects(t *testing.T) {
	in := []Input{
		{File: "a.yaml", Line: 1, Data: []byte(validJob)},
		{File: "b.yaml", Line: 12, Data: []byte(validJob)},
		{File: "c.yaml", Line: 1, Data: []byte(strings.Replace(validJob, "name: report", "name: other", 1))},
		{File: "d.yaml", Line: 1, Data: []byte(strings.Replace(validJob, "name: report", "name: report\n  namespace: prod", 1))},
	}
	rs := Check(in, DefaultOptions())
	if !rs[0].Valid() || !rs[2].Valid() || !rs[3].Valid() {
		t.Fatalf("unexpected errors: %+v %+v %+v", rs[0].Errors, rs[2].Errors, rs[3].Errors)
	}
	if len(rs[1].Errors) != 1 {
		t.Fatalf("second copy: %+v", rs[1].Errors)
	}
	f := rs[1].Errors[0]
	if f.Field != "metadata.name" || f.Type != "FieldValueDuplicate" || !strings.Contains(f.Message, "a.yaml:1") || f.Line != 15 {
		t.Errorf("got %+v", f)
	}
}

// TestLineOf maps field paths to lines, offset by the document's first line.
func TestLineOf(t *testing.T) {
	data := "apiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: nightly\n  labels:\n    app: x\nspec:\n  schedule: \"0 0 * * 7\"\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          restartPolicy: Never\n          containers:\n          - name: main\n            image: busybox:1.36\n"
	r := Check([]Input{{File: "f.yaml", Line: 20, Data: []byte(data)}}, DefaultOptions())[0]
	tests := map[string]int{
		"spec.schedule": 27,
		"spec.jobTemplate.spec.template.spec.containers[0].image": 35,
		"spec.jobTemplate.spec.template.spec.containers[0].name":  34,
		"metadata.labels[app]": 25,
		"spec.jobTemplate.spec.template.spec.containers[0].ports": 34,
		"spec.timeZone": 26,
		"nothing":       20,
		"":              20,
	}
	for path, want := range tests {
		if got := r.LineOf(path); got != want {
			t.Errorf("LineOf(%q) = %d, want %d", path, got, want)
		}
	}
	if len(r.Errors) != 1 || r.Errors[0].Line != 27 {
		t.Errorf("errors %+v, want one on line 27", r.Errors)
	}
}
