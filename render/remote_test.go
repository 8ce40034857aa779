package render

import (
	"os"
	"path/filepath"
	"testing"
)

// TestIsRemote: every form kustomize would clone or download is remote,
// local paths are not.
func TestIsRemote(t *testing.T) {
	tests := []struct {
		name, ref string
		want      bool
	}{
		{"https URL", "https://example.com/org/repo//deploy?ref=v1", true},
		{"https URL in capitals", "HTTPS://example.com/cronjob.yaml", true},
		{"http file", "http://example.com/cronjob.yaml", true},
		{"ssh URL", "ssh://git@example.com/org/repo.git", true},
		{"file URL", "file:///srv/repo//base", true},
		{"forced git protocol", "git::https://example.com/org/repo", true},
		{"scp-style with user", "git@github.com:org/repo.git//base", true},
		{"scp-style GitHub without user", "github.com:org/repo", true},
		{"scp-style GitHub in capitals", "GitHub.com:org/repo/deploy", true},
		{"user@host with a slash path", "deploy@git.example.com/org/repo", true},
		{"GitHub path form", "github.com/org/repo", true},
		{"ref query", "example.com/org/repo?ref=main", true},
		{"local base", "../base", false},
		{"local file", "cronjob.yaml", false},
		{"local nested directory", "overlays/prod", false},
		{"local file with a colon", "jobs:v1.yaml", false},
		{"inline patch", "apiVersion: v1\nkind: ConfigMap\n", false},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isRemote(tt.ref, filepath.Join(dir, tt.ref)); got != tt.want {
				t.Errorf("isRemote(%q) = %v, want %v", tt.ref, got, tt.want)
			}
		})
	}
}

// TestKustomizeSCPBaseRefused: `github.com:org/repo` is a git clone for
// kustomize; it is refused before kustomize runs, so no clone is attempted
// (no kustomize-* directory appears in TMPDIR).
func TestKustomizeSCPBaseRefused(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	docs, err := Render([]string{"testdata/remote/scp"}, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	compare(t, docs, []got{{File: "remote/scp/kustomization.yaml", Err: ErrRemoteBase}})
	assertNoCloneDirs(t, tmp)
}

// assertNoCloneDirs fails when kustomize left a clone directory in tmp.
func assertNoCloneDirs(t *testing.T, tmp string) {
	t.Helper()
	left, err := filepath.Glob(filepath.Join(tmp, "kustomize-*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("kustomize left %v behind", left)
	}
	if _, err := os.Stat(tmp); err != nil {
		t.Errorf("TMPDIR itself: %v", err)
	}
}
