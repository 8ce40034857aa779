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

// pipeline is the whole reconcile of `jobsync apply`: render the directory,
// validate (upstream rules and policies), plan against the inventory, apply.
func pipeline(dir, ns string, tgt reconcile.Target) *reconcile.Loop {
	src := reconcile.SourceFunc(func(context.Context) (reconcile.Snapshot, error) {
		return reconcile.Snapshot{Revision: "bench", Dir: dir}, nil
	})
	lo := reconcile.DefaultLoopOptions()
	lo.Sync, lo.Namespace = ns, ns
	return reconcile.NewLoop(src, tgt, lo)
}

func mustOnce(b *testing.B, ctx context.Context, loop *reconcile.Loop) reconcile.Attempt {
	b.Helper()
	a := loop.Once(ctx)
	if a.Err != nil {
		b.Fatalf("reconcile (stage %s, %d objects with findings): %v", a.Stage, len(a.Findings), a.Err)
	}
	return a
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

// newNamespace creates a namespace named after prefix.
func newNamespace(t testing.TB, ctx context.Context, prefix string) string {
	t.Helper()
	ns, err := env.CreateNamespace(ctx, prefix)
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// BenchmarkApplyCold applies 1,000 CronJobs into an empty namespace
// (target ≤ 15 s), with jobsync's target (objects decoded as the loop hands
// them over), with jobsync's whole pipeline (render, validate, plan, apply)
// and with kubectl apply --server-side.
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
	b.Run("jobsync-pipeline", func(b *testing.B) {
		var writes int64
		for b.Loop() {
			b.StopTimer()
			ns := newNamespace(b, ctx, "bench-cold-pipeline")
			tgt, counter := newTarget(b, ns)
			loop := pipeline(dir, ns, tgt)
			b.StartTimer()
			a := mustOnce(b, ctx, loop)
			if n := a.ChangeSet.Count(reconcile.ActionCreate); n != benchObjects {
				b.Fatalf("%d creates, want %d", n, benchObjects)
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
		before, readsBefore := counter.Writes(), counter.Reads()
		b.ResetTimer()
		for b.Loop() {
			res := jobsyncReconcile(b, ctx, tgt, dir, ns)
			if len(res.Drift) != 0 {
				b.Fatalf("drift %v in a no-change reconcile", res.Drift)
			}
		}
		writes := counter.Writes() - before
		b.ReportMetric(float64(writes)/float64(b.N), "writes/op")
		b.ReportMetric(float64(counter.Reads()-readsBefore)/float64(b.N), "reads/op")
		if writes != 0 {
			b.Fatalf("%d writes in %d no-change reconciles, want 0", writes, b.N)
		}
	})
	b.Run("jobsync-pipeline", func(b *testing.B) {
		ns := newNamespace(b, ctx, "bench-nochange-pipeline")
		tgt, counter := newTarget(b, ns)
		loop := pipeline(dir, ns, tgt)
		mustOnce(b, ctx, loop)
		before := counter.Writes()
		b.ResetTimer()
		for b.Loop() {
			if a := mustOnce(b, ctx, loop); len(a.Result.Drift) != 0 {
				b.Fatalf("drift %v in a no-change reconcile", a.Result.Drift)
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
	kubectl := filepath.Join(env.BinDir, "kubectl")
	if _, err := os.Stat(kubectl); err != nil {
		b.Fatalf("kubectl for the side-by-side figures: %v: run hack/build-controlplane.sh, which builds it next to kube-apiserver", err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(kubectl, "--kubeconfig", env.Kubeconfig, "-n", ns,
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
