package corpus

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func TestGenerate(t *testing.T) {
	tests := []struct {
		name        string
		files, docs int
	}{
		{name: "small", files: 3, docs: 40},
		{name: "one doc", files: 1, docs: 1},
		{name: "empty", files: 0, docs: 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, b := t.TempDir(), t.TempDir()
			if err := Generate(a, tc.files, tc.docs, 42); err != nil {
				t.Fatal(err)
			}
			if err := Generate(b, tc.files, tc.docs, 42); err != nil {
				t.Fatal(err)
			}
			files, _ := filepath.Glob(filepath.Join(a, "*.yaml"))
			if len(files) != tc.files {
				t.Fatalf("%d files, want %d", len(files), tc.files)
			}
			docs, mistakes := 0, 0
			for _, f := range files {
				x, _ := os.ReadFile(f)
				y, _ := os.ReadFile(filepath.Join(b, filepath.Base(f)))
				if !bytes.Equal(x, y) {
					t.Fatalf("%s differs between two runs with the same seed", f)
				}
				for _, d := range strings.Split(string(x), "---\n") {
					docs++
					var obj map[string]interface{}
					if err := yaml.Unmarshal([]byte(d), &obj); err != nil {
						t.Fatalf("%s: document %d is not YAML: %v", f, docs, err)
					}
					if obj["apiVersion"] != "batch/v1" {
						t.Fatalf("apiVersion %v", obj["apiVersion"])
					}
					if isMistaken(d) {
						mistakes++
					}
				}
			}
			if docs != tc.files*tc.docs {
				t.Errorf("%d documents, want %d", docs, tc.files*tc.docs)
			}
			if total := tc.files * tc.docs; total >= 100 && (mistakes == 0 || mistakes == total) {
				t.Errorf("%d of %d documents have a mistake, want a mix", mistakes, total)
			}
		})
	}
}

func TestGenerateSeedsDiffer(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	if err := Generate(a, 1, 20, 1); err != nil {
		t.Fatal(err)
	}
	if err := Generate(b, 1, 20, 2); err != nil {
		t.Fatal(err)
	}
	x, _ := os.ReadFile(filepath.Join(a, "corpus-0000.yaml"))
	y, _ := os.ReadFile(filepath.Join(b, "corpus-0000.yaml"))
	if bytes.Equal(x, y) {
		t.Error("different seeds gave the same corpus")
	}
}

func TestGenerateBadArgs(t *testing.T) {
	if err := Generate(t.TempDir(), -1, 1, 0); err == nil {
		t.Error("negative file count accepted")
	}
}

func isMistaken(doc string) bool {
	for _, m := range mistakes {
		if strings.Contains(doc, m.to) {
			return true
		}
	}
	return false
}
