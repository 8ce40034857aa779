package source

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jobsync/jobsync/internal/gittest"
	"github.com/jobsync/jobsync/internal/procstat"
)

// BenchmarkFetchBigBlobRSS: a child process (this test binary, -helper-fetch
// with -helper-rss) clones a repository holding one incompressible blob of
// bigBlob bytes and reports its own peak RSS (VmHWM), alone in its process
// so that nothing else counts. The target is peak RSS ≤ 1.5× the largest
// blob above the process's idle size (docs/source.md, Memory):
//
//	go test ./source/ -run '^$' -bench BenchmarkFetchBigBlobRSS -benchtime 1x
const bigBlob = 50 << 20

func BenchmarkFetchBigBlobRSS(b *testing.B) {
	base := bigBlobRepo(b, bigBlob)
	servers := map[string]string{
		"git-daemon": gittest.StartDaemon(b, base).URL("big.git"),
		"smart-http": gittest.StartHTTP(b, base, gittest.HTTPOptions{}).URL("big.git"),
	}
	for _, name := range []string{"git-daemon", "smart-http"} {
		b.Run(name, func(b *testing.B) {
			var peak, idle int64
			for b.Loop() {
				peak, idle = childFetchRSS(b, servers[name], b.TempDir())
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-MB")
			b.ReportMetric(float64(peak-idle)/bigBlob, "x-blob")
		})
	}
}

// TestFetchMemoryBoundedByBlob: the peak RSS of a fetch and checkout of a
// repository with one big blob stays under 1.5× the blob above the idle
// process (go-git's defaults read the blob whole, two or three times).
func TestFetchMemoryBoundedByBlob(t *testing.T) {
	if testing.Short() {
		t.Skip("fetches a 32 MiB blob in a child process")
	}
	const size = 32 << 20
	base := bigBlobRepo(t, size)
	url := gittest.StartDaemon(t, base).URL("big.git")
	peak, idle := childFetchRSS(t, url, t.TempDir())
	ratio := float64(peak-idle) / size
	t.Logf("peak %d MiB, idle %d MiB: %.2f× the blob", peak>>20, idle>>20, ratio)
	if ratio >= 1.5 {
		t.Fatalf("fetch peak RSS is %.2f× the biggest blob above idle, want < 1.5×", ratio)
	}
}

// TestFetchRefusesInflationBomb: a pack of a few hundred kilobytes holding a
// 256 MiB blob of zeros is refused (ErrTooLarge, --max-size 64 MiB by
// default) before go-git inflates the blob into memory to index it.
func TestFetchRefusesInflationBomb(t *testing.T) {
	if testing.Short() {
		t.Skip("commits a 256 MiB blob")
	}
	base := t.TempDir()
	repo := gittest.NewRepo(t, base, "bomb.git")
	out, err := os.Create(filepath.Join(repo.Work, "zeros.bin"))
	if err != nil {
		t.Fatal(err)
	}
	zeros := make([]byte, 1<<20)
	for range 256 {
		if _, err := out.Write(zeros); err != nil {
			t.Fatal(err)
		}
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	repo.Commit("bomb", map[string]string{"jobs/a.yaml": "a: 1\n"})
	url := gittest.StartDaemon(t, base).URL("bomb.git")
	peak, idle, stderr, err := runChildFetch(url, t.TempDir())
	t.Logf("peak %d MiB, idle %d MiB; %v: %s", peak>>20, idle>>20, err, stderr)
	if err == nil || !strings.Contains(stderr, ErrTooLarge.Error()) {
		t.Fatalf("fetch of a 256 MiB blob with --max-size 64 MiB: %v, %q; want %v", err, stderr, ErrTooLarge)
	}
	if peak-idle > 32<<20 {
		t.Fatalf("refusing it took %d MiB above idle, want < 32 MiB (the blob was inflated)", (peak-idle)>>20)
	}
}

// bigBlobRepo returns a base directory with big.git: one commit holding
// jobs/a.yaml and big.bin, size random (incompressible) bytes.
func bigBlobRepo(t testing.TB, size int) string {
	t.Helper()
	base := t.TempDir()
	repo := gittest.NewRepo(t, base, "big.git")
	blob := make([]byte, size)
	_, _ = rand.Read(blob)
	repo.Commit("big", map[string]string{"jobs/a.yaml": "a: 1\n", "big.bin": string(blob)})
	return base
}

// childFetchRSS runs one fetch in a fresh process and returns its VmHWM
// and its RSS just before the fetch.
func childFetchRSS(b testing.TB, url, cache string) (peak, idle int64) {
	b.Helper()
	peak, idle, stderr, err := runChildFetch(url, cache)
	if err != nil {
		b.Fatalf("child fetch: %v: %s", err, stderr)
	}
	if peak == 0 {
		b.Fatal("child printed no VmHWM")
	}
	return peak, idle
}

// runChildFetch runs -helper-fetch with -helper-rss and parses what it
// prints.
func runChildFetch(url, cache string) (peak, idle int64, stderr string, err error) {
	cmd := exec.Command(os.Args[0], "-helper-rss", "-helper-fetch", url+"|"+cache)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	for _, line := range strings.Split(out.String(), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			switch k {
			case "VmHWM":
				peak = n
			case "idle":
				idle = n
			}
		}
	}
	return peak, idle, errb.String(), err
}

// printRSS prints VmHWM (for -helper-rss), or the current RSS as "idle".
func printRSS(what string) {
	m, err := procstat.Read(0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	if what == "idle" {
		fmt.Printf("idle %d\n", m["VmRSS"])
		return
	}
	fmt.Printf("VmHWM %d\n", m["VmHWM"])
}
