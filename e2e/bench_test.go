package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/jobsync/jobsync/internal/kubetest"
	"github.com/jobsync/jobsync/manifests"
	"github.com/jobsync/jobsync/reconcile"
	"github.com/jobsync/jobsync/reconcile/cluster"
)

// benchObjects is the size of the benchmark repository.
const benchObjects = 1000

// writeCronJobs writes n CronJob files (one object each, as a repository
// holds them) into a new directory.
func writeCronJobs(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	for i := range n {
		doc := fmt.Sprintf(`apiVersion: batch/v1
kind: CronJob
metadata:
  name: report-%04d
  labels: {team: data}
spec:
  schedule: "%d %d * * *"
  timeZone: Europe/Berlin
  concurrencyPolicy: Forbid
  jobTemplate:
    spec:
      backoffLimit: 2
      ttlSecondsAfterFinished: 3600
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: main
            image: registry.example.com/report:1.%d
            args: ["--day", "yesterday"]
            resources:
              requests: {cpu: 100m, memory: 64Mi}
              limits: {memory: 128Mi}
`, i, i%60, (i/60)%24, i%7)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("report-%04d.yaml", i)), []byte(doc), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	return dir
}

// loadDesired reads the files as the agent would after rendering and
// validation, and labels them for the sync.
func loadDesired(b *testing.B, dir, sync, ns, rev string) []reconcile.Desired {
	b.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	sort.Strings(files)
	results := make([]manifests.Result, 0, len(files))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		j, err := yaml.YAMLToJSON(data)
		if err != nil {
			b.Fatalf("%s: %v", f, err)
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(j); err != nil {
			b.Fatalf("%s: %v", f, err)
		}
		results = append(results, manifests.Result{File: f, Line: 1, Unstructured: u})
	}
	ds, err := reconcile.DesiredFrom(results, sync, rev, ns)
	if err != nil {
		b.Fatal(err)
	}
	return ds
}

// jobsyncReconcile loads, plans and applies the directory once.
func jobsyncReconcile(b *testing.B, ctx context.Context, tgt *cluster.Target, dir, ns string) reconcile.ApplyResult {
	b.Helper()
	inv, err := tgt.Inventory(ctx)
	if err != nil {
		b.Fatal(err)
	}
	cs, err := reconcile.Plan("bench", loadDesired(b, dir, ns, ns, "bench"), inv, reconcile.DefaultPlanOptions())
	if err != nil {
		b.Fatal(err)
	}
	res, err := tgt.Apply(ctx, cs)
	if err != nil {
		b.Fatal(err)
	}
	return res
}

func newTarget(b *testing.B, ns string) (*cluster.Target, *kubetest.Counter) {
	b.Helper()
	cfg, counter := env.CountingConfig()
	opts := cluster.DefaultOptions()
	opts.Sync, opts.Namespace = ns, ns
	tgt, err := cluster.New(cfg, opts)
	if err != nil {
		b.Fatal(err)
	}
	return tgt, counter
}

func newNamespace(b *testing.B, ctx context.Context, prefix string) string {
	b.Helper()
	ns, err := env.CreateNamespace(ctx, prefix)
	if err != nil {
		b.Fatal(err)
	}
	return ns
}

// BenchmarkApplyCold applies 1,000 CronJobs into an empty namespace
// (target ≤ 15 s), with jobsync and with kubectl apply --server-side.
func BenchmarkApplyCold(b *testing.B) {
	ctx := context.Background()
	dir := writeCronJobs(b, benchObjects)
	b.Run("jobsync", func(b *testing.B) {
		var writes int64
		for b.Loop() {
			b.StopTimer()
			ns := newNamespace(b, ctx, "bench-cold-jobsync")
			tgt, counter := newTarget(b, ns)
			b.StartTimer()
			res := jobsyncReconcile(b, ctx, tgt, dir, ns)
			if n := len(res.Outcomes); n != benchObjects {
				b.Fatalf("%d outcomes, want %d", n, benchObjects)
			}
			writes += counter.Writes()
		}
		b.ReportMetric(float64(writes)/float64(b.N), "writes/op")
	})
	b.Run("kubectl", func(b *testing.B) {
		var writes int
		for b.Loop() {
			b.StopTimer()
			ns := newNamespace(b, ctx, "bench-cold-kubectl")
			b.StartTimer()
			writes += kubectlApply(b, dir, ns)
		}
		b.ReportMetric(float64(writes)/float64(b.N), "writes/op")
	})
}

// BenchmarkNoChange reconciles 1,000 applied CronJobs that did not change
// (target ≤ 3 s and zero writes), with jobsync and with kubectl.
func BenchmarkNoChange(b *testing.B) {
	ctx := context.Background()
	dir := writeCronJobs(b, benchObjects)
	b.Run("jobsync", func(b *testing.B) {
		ns := newNamespace(b, ctx, "bench-nochange-jobsync")
		tgt, counter := newTarget(b, ns)
		jobsyncReconcile(b, ctx, tgt, dir, ns)
		before := counter.Writes()
		b.ResetTimer()
		for b.Loop() {
			res := jobsyncReconcile(b, ctx, tgt, dir, ns)
			if len(res.Drift) != 0 {
				b.Fatalf("drift %v in a no-change reconcile", res.Drift)
			}
		}
		writes := counter.Writes() - before
		b.ReportMetric(float64(writes)/float64(b.N), "writes/op")
		if writes != 0 {
			b.Fatalf("%d writes in %d no-change reconciles, want 0", writes, b.N)
		}
	})
	b.Run("kubectl", func(b *testing.B) {
		ns := newNamespace(b, ctx, "bench-nochange-kubectl")
		kubectlApply(b, dir, ns)
		var writes int
		b.ResetTimer()
		for b.Loop() {
			writes += kubectlApply(b, dir, ns)
		}
		b.ReportMetric(float64(writes)/float64(b.N), "writes/op")
	})
}

var kubectlWrite = regexp.MustCompile(`(?m)(verb="(PATCH|POST|PUT|DELETE)"|\b(PATCH|POST|PUT|DELETE) https://)`)

// kubectlApply runs `kubectl apply --server-side` on dir in ns and returns how
// many writes it logged (-v=6 logs every request).
func kubectlApply(b *testing.B, dir, ns string) int {
	b.Helper()
	bin, err := kubetest.BinDir()
	if err != nil {
		b.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(filepath.Join(bin, "kubectl"), "--kubeconfig", env.Kubeconfig, "-n", ns,
		"apply", "--server-side", "--field-manager=kubectl-bench", "-f", dir, "-v=6")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		b.Fatalf("kubectl apply: %v\n%s", err, tail(stderr.String(), 2000))
	}
	return len(kubectlWrite.FindAllString(stderr.String(), -1))
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
