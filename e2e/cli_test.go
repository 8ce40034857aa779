package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var specHash = regexp.MustCompile(`(jobsync\.io/spec-hash: )[0-9a-f]+`)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name (rewritten with -update).
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update if intended):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// jobsyncBin builds cmd/jobsync once per test binary.
func jobsyncBin(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "jobsync-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		env.Cleanup(func() { os.RemoveAll(dir) })
		binPath = filepath.Join(dir, "jobsync")
		out, err := exec.Command("go", "build", "-o", binPath, "../cmd/jobsync").CombinedOutput()
		if err != nil {
			buildErr = errors.New("go build ./cmd/jobsync: " + err.Error() + "\n" + string(out))
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// runCLI runs jobsync with args and returns its output and exit code.
func runCLI(t *testing.T, args ...string) (string, int) {
	t.Helper()
	return runCLIIn(t, "", args...)
}

// runCLIIn runs jobsync in the working directory dir ("" = this one).
func runCLIIn(t *testing.T, dir string, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	cmd := exec.Command(jobsyncBin(t), args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(), "KUBECONFIG=/nonexistent") // only the flags may point at the cluster
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return out.String(), 0
	case errors.As(err, &ee):
		return out.String(), ee.ExitCode()
	}
	t.Fatalf("jobsync %v: %v", args, err)
	return "", 0
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		if body == "" {
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const cliConfigMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  level: debug\n"

const cliCronJob = `apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      backoffLimit: 0
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: main
            image: busybox:1.36
`

const cliJob = `apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox:1.36
`

// TestCLIDiffApplyPrune runs the jobsync binary against the control plane:
// diff shows what apply would do, apply does it (field manager jobsync), a
// second diff is empty, an object that left the directory is pruned only
// with --prune, and --wait waits for the revision's Job.
func TestCLIDiffApplyPrune(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ns := newNamespace(t, ctx, "cli")
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"settings.yaml": cliConfigMap, "nightly.yaml": cliCronJob})
	kube := []string{"--kubeconfig", env.Kubeconfig, "-n", ns}

	out, code := runCLI(t, append([]string{"diff", dir, "--color=never"}, kube...)...)
	// The namespace, and so the spec hashes, differ from run to run.
	golden(t, "cli-diff.golden", specHash.ReplaceAllString(strings.ReplaceAll(out, ns, "NAMESPACE"), "${1}HASH"))
	for _, w := range []string{"# ConfigMap/" + ns + "/settings create", "+++ git/CronJob/" + ns + "/nightly", "+  schedule: 0 3 * * *", "+    app.kubernetes.io/managed-by: jobsync"} {
		if !strings.Contains(out, w) {
			t.Errorf("diff before apply lacks %q:\n%s", w, out)
		}
	}
	if code != 1 {
		t.Errorf("diff with differences: exit %d, want 1", code)
	}
	if _, err := env.Client.BatchV1().CronJobs(ns).Get(ctx, "nightly", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("diff created the CronJob (%v)", err)
	}

	out, code = runCLI(t, append([]string{"apply", dir}, kube...)...)
	if code != 0 || !strings.Contains(out, "applied dir@sha256:") {
		t.Fatalf("apply: exit %d\n%s", code, out)
	}
	cj, err := env.Client.BatchV1().CronJobs(ns).Get(ctx, "nightly", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m := cj.ManagedFields; len(m) == 0 || m[0].Manager != "jobsync" || m[0].Operation != metav1.ManagedFieldsOperationApply {
		t.Errorf("CronJob managedFields %+v, want a server-side apply by jobsync", m)
	}
	if out, code = runCLI(t, append([]string{"diff", dir, "--color=always"}, kube...)...); code != 0 || strings.Contains(out, "+++") {
		t.Errorf("diff after apply: exit %d, want 0 and no diff:\n%s", code, out)
	}

	// settings leaves the directory; a Job arrives. The outcome as JSON.
	writeFiles(t, dir, map[string]string{"settings.yaml": "", "migrate.yaml": cliJob})
	out, code = runCLI(t, append([]string{"apply", dir, "-o", "json"}, kube...)...)
	var report struct {
		Revision, Stage string
		Objects         []struct {
			Object, Action, Reason string
			Done                   bool
		}
	}
	if err := json.Unmarshal([]byte(out), &report); err != nil || code != 0 {
		t.Fatalf("apply -o json: exit %d, %v\n%s", code, err, out)
	}
	got := map[string]string{}
	for _, o := range report.Objects {
		got[o.Object] = fmt.Sprintf("%s done=%v %s", o.Action, o.Done, o.Reason)
	}
	if !strings.HasPrefix(report.Revision, "dir@sha256:") || report.Stage != "done" ||
		got["ConfigMap/"+ns+"/settings"] != "prune done=false left Git; not pruned without --prune" ||
		!strings.HasPrefix(got["Job/"+ns+"/migrate"], "create done=true") {
		t.Errorf("apply -o json without --prune: revision %q stage %q objects %v", report.Revision, report.Stage, got)
	}
	if _, err := env.Client.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{}); err != nil {
		t.Errorf("ConfigMap settings without --prune: %v, want kept", err)
	}
	go func() {
		// No kubelet here: finish the Job's pod as one would, while apply waits.
		_, _ = env.FinishJobPods(ctx, ns, "migrate", 0, time.Minute)
	}()
	out, code = runCLI(t, append([]string{"apply", dir, "--prune", "--wait", "--timeout", "90s"}, kube...)...)
	t.Logf("jobsync apply --prune --wait:\n%s", out)
	if code != 0 || !strings.Contains(out, "Job/"+ns+"/migrate\tSucceeded") {
		t.Errorf("apply --prune --wait: exit %d\n%s", code, out)
	}
	if _, err := env.Client.CoreV1().ConfigMaps(ns).Get(ctx, "settings", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("ConfigMap settings after --prune: %v, want pruned", err)
	}
}

// TestCLIUsageErrors: a missing kubeconfig or path is a usage error (exit 2)
// that says what is wrong.
func TestCLIUsageErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "kubeconfig missing", args: []string{"apply", dir, "--kubeconfig", filepath.Join(dir, "nope")}, want: "--kubeconfig"},
		{name: "no cluster configured", args: []string{"diff", dir}, want: "no cluster to talk to"},
		{name: "path missing", args: []string{"apply", filepath.Join(dir, "nope"), "--kubeconfig", env.Kubeconfig}, want: "no such file"},
		{name: "bad colour", args: []string{"diff", dir, "--color", "pink", "--kubeconfig", env.Kubeconfig}, want: "--color"},
		{name: "bad output", args: []string{"apply", dir, "-o", "yaml", "--kubeconfig", env.Kubeconfig}, want: `-o "yaml": use text or json`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, code := runCLI(t, tc.args...)
			if code != 2 || !strings.Contains(out, tc.want) {
				t.Errorf("exit %d, output %q; want 2 and %q", code, out, tc.want)
			}
		})
	}
}
