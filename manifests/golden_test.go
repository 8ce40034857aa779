package manifests

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestCasesGolden pins every finding's line and message for the Job,
// CronJob and decoding fixtures (testdata/cases.golden; rewrite with -update
// after a deliberate change). The pod-* fixtures belong to the pod template
// rules and are checked by TestCases only.
func TestCasesGolden(t *testing.T) {
	var b strings.Builder
	for _, fx := range loadFixtures(t) {
		if strings.HasPrefix(fx.name, "pod-") {
			continue
		}
		r := Check([]Input{{File: fx.name + ".yaml", Line: 1, Data: fx.data}}, DefaultOptions())[0]
		for _, f := range r.Errors {
			fmt.Fprintf(&b, "%s:%d: error %s %s: %s [%s]\n", r.File, f.Line, f.Type, f.Field, f.Message, f.Rule)
		}
		for _, f := range r.Warnings {
			if f.Rule == RuleUpstream && (strings.HasPrefix(f.Field, "spec.template") || strings.HasPrefix(f.Field, "spec.jobTemplate.spec.template")) {
				continue // pod template warnings belong to the pod spec rules
			}
			fmt.Fprintf(&b, "%s:%d: warning %s: %s [%s]\n", r.File, f.Line, f.Field, f.Message, f.Rule)
		}
	}
	path := filepath.Join("testdata", "cases.golden")
	if *update {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("findings differ from %s (run go test -run TestCasesGolden -update and review the diff):\n%s", path, firstDiff(got, string(want)))
	}
}

// firstDiff shows the first differing line of two texts.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return fmt.Sprintf("line %d:\n got  %s\n want %s", i+1, gl, wl)
		}
	}
	return ""
}
