package main

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/jobsync/jobsync/internal/corpus"
)

// benchChildEnv makes the test binary act as jobsync itself, so that the
// process benchmark measures a real `jobsync validate` process.
const benchChildEnv = "JOBSYNC_VALIDATE_BENCH_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(benchChildEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// benchCorpus writes the corpus: 10,000 Job/CronJob documents, mixed
// valid and invalid, in 100 files (the same bytes as hack/gencorpus -seed 1).
func benchCorpus(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	if err := corpus.Generate(dir, 100, 100, 1); err != nil {
		b.Fatal(err)
	}
	return dir
}

// BenchmarkValidateCorpusProcess runs `jobsync validate -o json` on the
// 10,000-document corpus as its own process, as CI does. ns/op is the wall
// time of the whole command; max-rss-MB is the largest peak resident set of
// the runs. Target (issue 2): ≤ 0.5 s and ≤ 150 MB on 2 cores.
func BenchmarkValidateCorpusProcess(b *testing.B) {
	dir := benchCorpus(b)
	var maxRSS int64
	var out bytes.Buffer
	for b.Loop() {
		out.Reset()
		cmd := exec.Command(os.Args[0], "validate", "-o", "json", dir)
		cmd.Env = append(os.Environ(), benchChildEnv+"=1")
		cmd.Stdout = &out
		cmd.Stderr = io.Discard
		err := cmd.Run()
		if code := cmd.ProcessState.ExitCode(); code != exitFindings {
			b.Fatalf("exit %d (%v), want %d: the corpus has invalid documents", code, err, exitFindings)
		}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			maxRSS = max(maxRSS, int64(ru.Maxrss)) // KiB on Linux
		}
	}
	checkCorpusReport(b, out.String())
	b.ReportMetric(float64(maxRSS)/1024, "max-rss-MB")
}

// BenchmarkValidateCorpus is the same command in this process (for
// profiling with -cpuprofile/-memprofile); heap-sys-MB bounds its peak heap.
func BenchmarkValidateCorpus(b *testing.B) {
	dir := benchCorpus(b)
	env := func(string) (string, bool) { return "", false }
	var out bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		out.Reset()
		if code := runEnv([]string{"validate", "-o", "json", dir}, strings.NewReader(""), &out, io.Discard, env); code != exitFindings {
			b.Fatalf("exit %d, want %d", code, exitFindings)
		}
	}
	checkCorpusReport(b, out.String())
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapSys)/(1<<20), "heap-sys-MB")
}

// checkCorpusReport fails unless the report covers the whole corpus.
func checkCorpusReport(b *testing.B, out string) {
	b.Helper()
	for _, want := range []string{`"objects": 10000`, `"invalid": 1955`} {
		if !strings.Contains(out, want) {
			b.Fatalf("report lacks %s:\n%.400s", want, out)
		}
	}
}
