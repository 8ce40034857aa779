package manifests

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/jobsync/jobsync/internal/corpus"
)

// BenchmarkCheckCorpus reads and checks a generated corpus of 10,000 Job and
// CronJob documents in 100 files (generation is not timed), keeping the typed
// objects but not the unstructured ones. The target (≤ 0.5 s and
// ≤ 150 MB on 2 cores) is for the whole command: see
// cmd/jobsync BenchmarkValidateCorpusProcess.
func BenchmarkCheckCorpus(b *testing.B) {
	opts := DefaultOptions()
	opts.SkipUnstructured = true
	benchmarkCorpus(b, opts)
}

// BenchmarkCheckCorpusReportOnly checks the corpus the way jobsync validate
// does: each result drops its objects in the worker once checked (validate
// applies the policies there first), and its line index once its findings
// have their lines.
func BenchmarkCheckCorpusReportOnly(b *testing.B) {
	opts := DefaultOptions()
	opts.Each = func(r *Result) { r.Object, r.Unstructured = nil, nil }
	opts.DropLines = true
	benchmarkCorpus(b, opts)
}

// BenchmarkCheckCorpusKeepUnstructured is the same with Result.Unstructured
// kept (what the agent's reconcile uses).
func BenchmarkCheckCorpusKeepUnstructured(b *testing.B) {
	benchmarkCorpus(b, DefaultOptions())
}

func benchmarkCorpus(b *testing.B, opts Options) {
	dir := b.TempDir()
	if err := corpus.Generate(dir, 100, 100, 1); err != nil {
		b.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) != 100 {
		b.Fatalf("corpus: %v (%d files)", err, len(files))
	}
	b.ReportAllocs()
	b.ResetTimer()
	var invalid int
	var rs []Result
	for b.Loop() {
		var inputs []Input
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				b.Fatal(err)
			}
			inputs = append(inputs, splitDocuments(filepath.Base(f), data)...)
		}
		rs = Check(inputs, opts)
		invalid = 0
		for i := range rs {
			if !rs[i].Valid() {
				invalid++
			}
		}
		if len(rs) != 10000 {
			b.Fatalf("%d results, want 10000", len(rs))
		}
	}
	b.ReportMetric(float64(invalid), "invalid/op")
	// HeapSys is the heap the process got from the OS: an upper bound of the
	// peak heap during the runs (the results of one run stay alive until the next).
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapSys)/(1<<20), "heap-sys-MB")
	// The heap the 10,000 results of the last run keep alive.
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "live-MB")
	runtime.KeepAlive(rs)
}

// splitDocuments cuts a multi-document YAML stream at "---" lines, keeping
// each document's first line (what render does for plain files).
func splitDocuments(file string, data []byte) []Input {
	var out []Input
	start, startLine, line := 0, 1, 1
	for i := 0; i <= len(data); {
		end := bytes.IndexByte(data[i:], '\n')
		if end < 0 {
			end = len(data) - i
		}
		l := bytes.TrimRight(data[i:i+end], " \r")
		if bytes.Equal(l, []byte("---")) {
			out = append(out, Input{File: file, Line: startLine, Data: data[start:i]})
			start, startLine = i+end+1, line+1
		}
		i += end + 1
		line++
	}
	if start < len(data) {
		out = append(out, Input{File: file, Line: startLine, Data: data[start:]})
	}
	return out
}
