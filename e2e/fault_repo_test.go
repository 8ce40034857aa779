package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/jobsync/jobsync/internal/gittest"
	"github.com/jobsync/jobsync/reconcile"
	"github.com/jobsync/jobsync/reconcile/cluster"
)

// perFile is how many documents the generated files hold each.
const perFile = 100

func configMapDoc(name, value string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n  value: %q\n", name, value)
}

// cronJobDoc is a CronJob that passes validation and every policy.
func cronJobDoc(name, schedule, tag string) string {
	return fmt.Sprintf(`apiVersion: batch/v1
kind: CronJob
metadata:
  name: %s
spec:
  schedule: %q
  timeZone: Etc/UTC
  concurrencyPolicy: Forbid
  startingDeadlineSeconds: 300
  successfulJobsHistoryLimit: 3
  failedJobsHistoryLimit: 1
  jobTemplate:
    spec:
      backoffLimit: 2
      activeDeadlineSeconds: 600
      template:
        spec:
          restartPolicy: Never
          containers:
          - name: main
            image: registry.example.com/report:%s
            resources:
              requests: {cpu: 10m, memory: 16Mi}
              limits: {memory: 32Mi}
`, name, schedule, tag)
}

// jobDoc is a standalone Job that passes validation and every policy.
func jobDoc(name string) string {
	return fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata:
  name: %s
spec:
  backoffLimit: 0
  activeDeadlineSeconds: 600
  ttlSecondsAfterFinished: 86400
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: registry.example.com/migrate:1.0
        resources:
          requests: {cpu: 10m, memory: 16Mi}
          limits: {memory: 32Mi}
`, name)
}

// bulk returns files dir/<prefix>-NNN.yaml holding n documents made by doc,
// perFile to a file, as a big repository keeps them.
func bulkFiles(dir, prefix string, n int, doc func(i int) string) map[string]string {
	files := map[string]string{}
	var b strings.Builder
	for i := range n {
		if b.Len() > 0 {
			b.WriteString("---\n")
		}
		b.WriteString(doc(i))
		if (i+1)%perFile == 0 || i == n-1 {
			files[fmt.Sprintf("%s/%s-%03d.yaml", dir, prefix, i/perFile)] = b.String()
			b.Reset()
		}
	}
	return files
}

// configMaps returns n ConfigMaps cm-NNNNN whose value is value.
func configMaps(n int, value string) map[string]string {
	return bulkFiles("config", "cm", n, func(i int) string { return configMapDoc(fmt.Sprintf("cm-%05d", i), value) })
}

// cronJobs returns n CronJobs cj-NNNNN with image tag tag.
func cronJobs(n int, tag string) map[string]string {
	return bulkFiles("cron", "cj", n, func(i int) string {
		return cronJobDoc(fmt.Sprintf("cj-%05d", i), fmt.Sprintf("%d %d * * *", i%60, (i/60)%24), tag)
	})
}

func mergeFiles(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// newRepo is a bare repository "app.git" below a new base directory, with
// a working clone on main.
func newFaultRepo(t testing.TB) (base string, repo *gittest.Repo) {
	t.Helper()
	base = t.TempDir()
	return base, gittest.NewRepo(t, base, "app.git")
}

func revisionOf(commit string) string { return "main@sha1:" + commit }

// managed is what the sync has in the cluster: Kind/name → the revision
// annotation, for ConfigMaps, CronJobs and Jobs labelled with the sync.
func managedObjects(t testing.TB, ctx context.Context, ns string) map[string]string {
	t.Helper()
	sel := metav1.ListOptions{LabelSelector: reconcile.LabelSync + "=" + ns}
	out := map[string]string{}
	cms, err := env.Client.CoreV1().ConfigMaps(ns).List(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range cms.Items {
		out["ConfigMap/"+o.Name] = o.Annotations[reconcile.AnnotationRevision]
	}
	cjs, err := env.Client.BatchV1().CronJobs(ns).List(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range cjs.Items {
		out["CronJob/"+o.Name] = o.Annotations[reconcile.AnnotationRevision]
	}
	jobs, err := env.Client.BatchV1().Jobs(ns).List(ctx, sel)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range jobs.Items {
		out["Job/"+o.Name] = o.Annotations[reconcile.AnnotationRevision]
	}
	return out
}

// countConfigMaps counts the sync's ConfigMaps (no error: used while the
// API server may be down).
func countConfigMaps(ctx context.Context, ns string) int {
	l, err := env.Client.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{LabelSelector: reconcile.LabelSync + "=" + ns})
	if err != nil {
		return -1
	}
	return len(l.Items)
}

// inventory reads the sync's inventory as the agent would.
func inventoryOf(t testing.TB, ctx context.Context, ns string) reconcile.Inventory {
	t.Helper()
	o := cluster.DefaultOptions()
	o.Sync, o.Namespace = ns, ns
	tgt, err := cluster.New(env.RESTConfig(), o)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := tgt.Inventory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// configMapValue returns ConfigMap ns/name's data.value ("" when absent).
func configMapValue(t testing.TB, ctx context.Context, ns, name string) string {
	t.Helper()
	cm, err := env.Client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("ConfigMap/%s/%s: %v", ns, name, err)
	}
	return cm.Data["value"]
}
