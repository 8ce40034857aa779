package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// copyExamples copies examples/base and examples/overlays (a base beside
// its overlays) to a new directory, made a Git work tree when git is set.
func copyExamples(t *testing.T, git bool) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "repo")
	for _, sub := range []string{"base", "overlays"} {
		if err := os.CopyFS(filepath.Join(dst, sub), os.DirFS(filepath.Join("../../examples", sub))); err != nil {
			t.Fatal(err)
		}
	}
	if git {
		if out, err := exec.Command("git", "init", "-q", dst).CombinedOutput(); err != nil {
			t.Fatalf("git init: %v: %s", err, out)
		}
	}
	return dst
}

// TestValidateSameFromAnyDirectory: an overlay with a sibling base gives
// byte-identical JSON whether validated from the repository's root, from
// inside the overlay or from elsewhere, and the .jobsync.yaml between the
// overlay and the root is found each time.
func TestValidateSameFromAnyDirectory(t *testing.T) {
	repo := copyExamples(t, true)
	overlay := filepath.Join(repo, "overlays/prod")
	cfg := "minScheduleInterval: 7h\nrules:\n  cronjob-schedule-too-frequent: error\n"
	if err := os.WriteFile(filepath.Join(repo, "overlays", ".jobsync.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	runs := []struct{ name, cwd, path string }{
		{"from the root", repo, "overlays/prod"},
		{"from inside the overlay", overlay, "."},
		{"from elsewhere", t.TempDir(), overlay},
	}
	var first string
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			t.Chdir(r.cwd)
			code, out, errs := runValidateCLI(t, "", nil, "validate", "-o", "json", r.path)
			if code != exitOK && code != exitFindings {
				t.Fatalf("exit %d: %s", code, errs)
			}
			if strings.Contains(out, "outside the root") || !strings.Contains(out, `"file": "base/pg-backup.yaml"`) {
				t.Fatalf("the base was not rendered with root-relative names:\n%s", out)
			}
			if !strings.Contains(out, `"rule": "cronjob-schedule-too-frequent"`) || !strings.Contains(out, `"valid": false`) {
				t.Errorf("overlays/.jobsync.yaml was not used")
			}
			if first == "" {
				first = out
			} else if out != first {
				t.Errorf("JSON differs from the first run's")
			}
		})
	}
}

// TestValidateRootFlag: outside a Git work tree, a sibling base needs
// --root; the error says so, on one clean line.
func TestValidateRootFlag(t *testing.T) {
	repo := copyExamples(t, false)
	t.Chdir(filepath.Join(repo, "overlays/prod"))
	code, out, _ := runValidateCLI(t, "", nil, "validate", ".")
	if code != exitFindings || !strings.Contains(out, "outside the root") || !strings.Contains(out, "--root") {
		t.Fatalf("without --root: exit %d, want %d and an error naming --root:\n%s", code, exitFindings, out)
	}
	if !strings.HasPrefix(out, "kustomization.yaml: error: kustomize build .: ../../base: ") {
		t.Errorf("error line %q: want it to start with the file and the base", strings.SplitN(out, "\n", 2)[0])
	}
	code, out, errs := runValidateCLI(t, "", nil, "validate", "--root", "../..", ".")
	if code == exitUsage || strings.Contains(out, "outside the root") {
		t.Fatalf("with --root: exit %d:\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "base/report-settings.yaml:") {
		t.Errorf("file names are not relative to --root:\n%s", out)
	}
	code, _, errs = runValidateCLI(t, "", nil, "validate", "--root", "../../base", ".")
	if code != exitUsage || !strings.Contains(errs, "outside the root") {
		t.Errorf("a --root that does not hold PATH: exit %d, %q; want %d and why", code, errs, exitUsage)
	}
}
