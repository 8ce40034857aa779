package corpus

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// InvalidShare is the share of documents Generate makes invalid (one in five).
const InvalidShare = 5

// Generate writes files YAML files (corpus-0000.yaml, ...) under dir, each a
// multi-document stream of docsPerFile Jobs and CronJobs. The same seed gives
// the same bytes. About one document in InvalidShare carries one mistake the
// API server refuses (a bad schedule, a negative count, an unknown field, a
// missing restartPolicy, ...); names are unique across the corpus.
func Generate(dir string, files, docsPerFile int, seed int64) error {
	if files < 0 || docsPerFile < 0 {
		return fmt.Errorf("corpus: negative size %d×%d", files, docsPerFile)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("corpus: %w", err)
	}
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15))
	for f := range files {
		var b strings.Builder
		for d := range docsPerFile {
			if d > 0 {
				b.WriteString("---\n")
			}
			writeDoc(&b, rng, fmt.Sprintf("w%04d-%04d", f, d))
		}
		path := filepath.Join(dir, fmt.Sprintf("corpus-%04d.yaml", f))
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			return fmt.Errorf("corpus: %w", err)
		}
	}
	return nil
}

var (
	schedules = []string{"0 3 * * *", "*/15 * * * *", "30 2 * * 1-5", "@hourly", "0 0 1 * *", "@every 10m", "15 4 * * sun"}
	zones     = []string{"", "UTC", "Europe/Berlin", "America/New_York", "Asia/Tokyo"}
	images    = []string{"busybox:1.36", "alpine:3.20", "registry.example.com/etl/loader:2.4.1", "python:3.12-slim"}
	policies  = []string{"", "Allow", "Forbid", "Replace"}
)

// mistakes are the errors injected into invalid documents: a one-line
// find/replace on the rendered document.
var mistakes = []struct{ from, to string }{
	{"restartPolicy: Never", "restartPolicy: Always"},
	{"backoffLimit: 3", "backoffLimit: -1"},
	{"backoffLimit: 3", `backoffLimit: "three"`},
	{"image: ", "imagee: "},
	{"cpu: 100m", "cpu: lots"},
	{"parallelism: 1", "parallelism: -4"},
	{"memory: 256Mi", "memory: 64Mi"},
	{"schedule: ", `schedule: "0 0 * * 7"` + "\n  x-schedule: "},
	{"concurrencyPolicy: Allow", "concurrencyPolicy: allow"},
	{"timeZone: UTC", "timeZone: utc"},
}

func writeDoc(b *strings.Builder, rng *rand.Rand, id string) {
	var doc string
	if rng.IntN(3) > 0 {
		doc = cronJob(rng, id)
	} else {
		doc = job(rng, id)
	}
	if rng.IntN(InvalidShare) == 0 {
		// The first mistake that applies to this document, from a random start.
		start := rng.IntN(len(mistakes))
		for i := range mistakes {
			m := mistakes[(start+i)%len(mistakes)]
			if strings.Contains(doc, m.from) {
				doc = strings.Replace(doc, m.from, m.to, 1)
				break
			}
		}
	}
	b.WriteString(doc)
}

func job(rng *rand.Rand, id string) string {
	return fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata:
  name: job-%s
  namespace: team-%d
  labels:
    app.kubernetes.io/name: job-%s
    app.kubernetes.io/part-of: reports
spec:
  parallelism: 1
  completions: %d
  backoffLimit: 3
  activeDeadlineSeconds: %d
  ttlSecondsAfterFinished: 3600
  template:
    metadata:
      labels:
        app.kubernetes.io/name: job-%s
    spec:
      restartPolicy: Never
%s`, id, rng.IntN(5), id, 1+rng.IntN(3), 600+rng.IntN(3000), id, podSpec(rng, "      "))
}

func cronJob(rng *rand.Rand, id string) string {
	tz := zones[rng.IntN(len(zones))]
	tzLine := ""
	if tz != "" {
		tzLine = "  timeZone: " + tz + "\n"
	}
	pol := policies[rng.IntN(len(policies))]
	if pol == "" {
		pol = "Allow"
	}
	sched := schedules[rng.IntN(len(schedules))]
	return fmt.Sprintf(`apiVersion: batch/v1
kind: CronJob
metadata:
  name: cron-%s
  namespace: team-%d
  annotations:
    owner: data-platform
spec:
  schedule: %q
%s  concurrencyPolicy: %s
  startingDeadlineSeconds: 300
  successfulJobsHistoryLimit: 3
  failedJobsHistoryLimit: 1
  jobTemplate:
    spec:
      parallelism: 1
      backoffLimit: 3
      activeDeadlineSeconds: %d
      template:
        spec:
          restartPolicy: Never
%s`, id, rng.IntN(5), sched, tzLine, pol, 600+rng.IntN(3000), podSpec(rng, "          "))
}

func podSpec(rng *rand.Rand, ind string) string {
	lines := []string{
		"containers:",
		"- name: main",
		"  image: " + images[rng.IntN(len(images))],
		"  command: [\"sh\", \"-c\", \"echo run " + fmt.Sprint(rng.IntN(1000)) + "\"]",
		"  env:",
		"  - name: MODE",
		"    value: batch",
		"  - name: POD_NAME",
		"    valueFrom:",
		"      fieldRef:",
		"        fieldPath: metadata.name",
		"  resources:",
		"    requests:",
		"      cpu: 100m",
		"      memory: 128Mi",
		"    limits:",
		"      memory: 256Mi",
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(ind)
		b.WriteString(strings.ReplaceAll(l, "\n", "\n"+ind))
		b.WriteString("\n")
	}
	return b.String()
}
