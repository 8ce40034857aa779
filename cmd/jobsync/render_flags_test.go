package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestValidateRenderLimits: the render limit flags reach the render, and
// a render over one is a finding that names the flag to raise it.
func TestValidateRenderLimits(t *testing.T) {
	dir := t.TempDir()
	doc := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%s\n"
	for _, n := range []string{"a", "b", "c"} {
		if err := os.WriteFile(filepath.Join(dir, n+".yaml"), []byte(strings.ReplaceAll(doc, "%s", n)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"documents", []string{"--render-max-documents", "2"}, "--render-max-documents"},
		{"time", []string{"--render-max-documents", "0", "--render-timeout", "1ns"}, "--render-timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(append([]string{"validate"}, tt.args...), dir)
			code, out, errs := runValidateCLI(t, "", nil, args...)
			if code != exitFindings || !strings.Contains(out, tt.want) || !strings.Contains(out, "render limit exceeded") {
				t.Fatalf("exit %d, want 1 with a finding that names %s\nstdout:\n%s\nstderr:\n%s", code, tt.want, out, errs)
			}
		})
	}
}
