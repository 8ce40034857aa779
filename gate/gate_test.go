package gate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func write(t *testing.T, p, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFindConfig: the nearest .jobsync.yaml from the path up to the root,
// both included; nothing above the root.
func TestFindConfig(t *testing.T) {
	dir := t.TempDir()
	root := filepath.Join(dir, "repo")
	write(t, filepath.Join(dir, ConfigFileName), "") // above the root: never used
	write(t, filepath.Join(root, "overlays/prod/job.yaml"), "")
	write(t, filepath.Join(root, "overlays/dev/.jobsync.yaml"), "")
	write(t, filepath.Join(root, ConfigFileName), "")
	tests := []struct{ name, path, root, want string }{
		{"beside the overlay", "overlays/dev", "", "overlays/dev/" + ConfigFileName},
		{"up to the root", "overlays/prod", "", ConfigFileName},
		{"a file's directory first", "overlays/prod/job.yaml", "", ConfigFileName},
		{"the root itself", ".", "", ConfigFileName},
		{"nothing above the root", "overlays/prod", "overlays", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			top := filepath.Join(root, tt.root)
			got, err := FindConfig(filepath.Join(root, tt.path), top)
			want := ""
			if tt.want != "" {
				want = filepath.Join(root, tt.want)
			}
			if err != nil || got != want {
				t.Fatalf("FindConfig = %q, %v; want %q", got, err, want)
			}
		})
	}
}

// TestRunVerdict: a rejected revision and a bad configuration.
func TestRunVerdict(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "job.yaml"), "apiVersion: batch/v1\nkind: Job\nmetadata: {name: x}\nspec: {}\n")
	v, err := Run(context.Background(), []string{dir}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if v.Root != dir || v.Invalid != 1 || !errors.Is(v.Err(), ErrRejected) || v.Results[0].File != "job.yaml" {
		t.Fatalf("verdict %+v, err %v: want root %s, 1 invalid job.yaml, ErrRejected", v, v.Err(), dir)
	}
	write(t, filepath.Join(dir, ConfigFileName), "rules: {no-such-rule: error}\n")
	_, err = Run(context.Background(), []string{dir}, DefaultOptions())
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("bad .jobsync.yaml: err %v, want a *ConfigError", err)
	}
}
