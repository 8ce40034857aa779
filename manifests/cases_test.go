package manifests

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fixture is one file of testdata/cases: a complete object and the verdict
// the API server gives it, from its header lines:
//
//	# want: valid
//	# want: <CauseType> <field.path>      (one line per expected error)
//	# warn: <rule> <field.path>           (warnings that must be present)
type fixture struct {
	name  string
	data  []byte
	wants []string
	warns []string
}

func loadFixtures(t testing.TB) []fixture {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "cases", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in testdata/cases: %v", err)
	}
	var out []fixture
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fx := fixture{name: strings.TrimSuffix(filepath.Base(f), ".yaml"), data: data}
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "#") {
				break
			}
			if v, ok := strings.CutPrefix(line, "# want: "); ok && v != "valid" {
				fx.wants = append(fx.wants, strings.TrimSpace(v))
			}
			if v, ok := strings.CutPrefix(line, "# warn: "); ok {
				fx.warns = append(fx.warns, strings.TrimSpace(v))
			}
		}
		if !bytes.HasPrefix(data, []byte("# want: ")) {
			t.Fatalf("%s: first line must be a '# want:' header", f)
		}
		out = append(out, fx)
	}
	return out
}

// TestCases checks every fixture: exactly the expected set of cause types
// and field paths, and the expected warnings.
func TestCases(t *testing.T) {
	for _, fx := range loadFixtures(t) {
		t.Run(fx.name, func(t *testing.T) {
			res := Check([]Input{{File: fx.name + ".yaml", Line: 1, Data: fx.data}}, DefaultOptions())
			if len(res) != 1 {
				t.Fatalf("got %d results, want 1", len(res))
			}
			r := res[0]
			if !r.Checked {
				t.Fatalf("not checked: %+v", r)
			}
			var got []string
			for _, e := range r.Errors {
				got = append(got, e.Type+" "+e.Field)
			}
			if g, w := uniqSorted(got), uniqSorted(fx.wants); !slices.Equal(g, w) {
				t.Errorf("errors:\n got  %q\n want %q\nfull: %+v", g, w, r.Errors)
			}
			var warns []string
			for _, w := range r.Warnings {
				warns = append(warns, w.Rule+" "+w.Field)
			}
			for _, w := range fx.warns {
				if !slices.Contains(warns, w) {
					t.Errorf("missing warning %q; got %q", w, warns)
				}
			}
			if len(fx.wants) == 0 && r.Object == nil {
				t.Errorf("valid object has no typed Object")
			}
			for _, f := range append(slices.Clone(r.Errors), r.Warnings...) {
				if f.Line < 1 || f.Rule == "" || f.Message == "" {
					t.Errorf("finding not well-formed: %+v", f)
				}
			}
		})
	}
}

func uniqSorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}
