package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// siblingRepo writes a repository whose overlay's base is its sibling
// (overlays/prod → ../../base), a Git work tree when git is set.
func siblingRepo(t *testing.T, ns string, git bool) string {
	t.Helper()
	repo := filepath.Join(t.TempDir(), "repo")
	for _, d := range []string{"base", "overlays/prod"} {
		if err := os.MkdirAll(filepath.Join(repo, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFiles(t, repo, map[string]string{
		"base/kustomization.yaml":          "resources: [nightly.yaml]\n",
		"base/nightly.yaml":                cliCronJob,
		"overlays/prod/kustomization.yaml": "namespace: " + ns + "\nresources: [../../base]\n",
	})
	if git {
		if out, err := exec.Command("git", "init", "-q", repo).CombinedOutput(); err != nil {
			t.Fatalf("git init: %v: %s", err, out)
		}
	}
	return repo
}

var appliedRevision = regexp.MustCompile(`applied (dir@sha256:[0-9a-f]+)`)

// TestApplySiblingBaseFromAnyDirectory: jobsync apply of an overlay whose
// base is its sibling works from the repository's root, from inside the
// overlay and from an unrelated directory, as kubectl apply -k does; the
// three runs see the same revision, and the later two change nothing.
func TestApplySiblingBaseFromAnyDirectory(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ns := newNamespace(t, ctx, "root")
	repo := siblingRepo(t, ns, true)
	overlay := filepath.Join(repo, "overlays/prod")
	kube := []string{"--kubeconfig", env.Kubeconfig, "-n", ns}
	runs := []struct{ name, cwd, path, want string }{
		{"from the root", repo, "overlays/prod", "CronJob/" + ns + "/nightly create"},
		{"from inside the overlay", overlay, ".", "1 unchanged"},
		{"from elsewhere", t.TempDir(), overlay, "1 unchanged"},
	}
	rev := ""
	for _, r := range runs {
		out, code := runCLIIn(t, r.cwd, append([]string{"apply", r.path}, kube...)...)
		m := appliedRevision.FindStringSubmatch(out)
		if code != 0 || m == nil || !strings.Contains(out, r.want) {
			t.Fatalf("%s: exit %d, want 0 and %q:\n%s", r.name, code, r.want, out)
		}
		if rev == "" {
			rev = m[1]
		} else if m[1] != rev {
			t.Errorf("%s: revision %s, want %s as from the root", r.name, m[1], rev)
		}
	}
	if _, err := env.Client.BatchV1().CronJobs(ns).Get(ctx, "nightly", metav1.GetOptions{}); err != nil {
		t.Fatalf("the base's CronJob was not applied: %v", err)
	}
	// diff and validate judge it the same way from inside the overlay.
	if out, code := runCLIIn(t, overlay, append([]string{"diff", ".", "--color=never"}, kube...)...); code != 0 {
		t.Errorf("diff from inside the overlay: exit %d, want 0 (nothing to change):\n%s", code, out)
	}
}

// TestApplyRejectedRevisionOutput: outside a Git work tree and without
// --root the sibling base is refused, on one clean line naming --root and
// "revision rejected" once; with --root it applies.
func TestApplyRejectedRevisionOutput(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ns := newNamespace(t, ctx, "root")
	repo := siblingRepo(t, ns, false)
	overlay := filepath.Join(repo, "overlays/prod")
	kube := []string{"--kubeconfig", env.Kubeconfig, "-n", ns}
	out, code := runCLIIn(t, overlay, append([]string{"apply", "."}, kube...)...)
	if code != 1 {
		t.Fatalf("apply without --root: exit %d, want 1:\n%s", code, out)
	}
	first := strings.SplitN(out, "\n", 2)[0]
	if !strings.HasPrefix(first, "kustomization.yaml: error: kustomize build .: ../../base: outside the root") || !strings.Contains(first, "--root") {
		t.Errorf("first line %q: want the kustomization, the base and --root", first)
	}
	if n := strings.Count(out, "revision rejected"); n != 1 || strings.Contains(out, ": /: ") {
		t.Errorf("output says \"revision rejected\" %d times (want 1), or has an empty Kind/name:\n%s", n, out)
	}
	out, code = runCLIIn(t, overlay, append([]string{"apply", ".", "-o", "json"}, kube...)...)
	if n := strings.Count(out, "revision rejected"); code != 1 || n != 1 {
		t.Errorf("apply -o json: exit %d (want 1), \"revision rejected\" %d times on stdout and stderr (want 1):\n%s", code, n, out)
	}
	out, code = runCLIIn(t, overlay, append([]string{"apply", ".", "--root", "../.."}, kube...)...)
	if code != 0 || !strings.Contains(out, "CronJob/"+ns+"/nightly create") {
		t.Fatalf("apply with --root: exit %d:\n%s", code, out)
	}
}
