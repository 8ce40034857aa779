package source

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/jobsync/jobsync/internal/gittest"
)

// The targets of issue 3, against a 10,000-commit repository (100 files)
// served by git daemon and by smart HTTP on loopback, side by side with the
// git CLI on the same server:
//
//	go test ./source/ -run '^$' -bench . -benchtime 20x
//
// PollNoChange ≤ 200 ms; FetchOneCommit ≤ 500 ms.

const benchCommits, benchFiles = 10_000, 100

type benchServer struct {
	name string
	url  string
	repo *gittest.Repo
}

func benchServers(b *testing.B) []benchServer {
	b.Helper()
	src := gittest.LargeRepo(b, benchCommits, benchFiles)
	base := b.TempDir()
	d := gittest.StartDaemon(b, base)
	h := gittest.StartHTTP(b, base, gittest.HTTPOptions{})
	return []benchServer{
		{name: "git-daemon", url: d.URL("d.git"), repo: gittest.ImportRepo(b, base, "d.git", src)},
		{name: "smart-http", url: h.URL("h.git"), repo: gittest.ImportRepo(b, base, "h.git", src)},
	}
}

// cliClone is a shallow clone made by the git CLI, for the comparison.
func cliClone(b *testing.B, url string) string {
	b.Helper()
	dir := filepath.Join(b.TempDir(), "clone")
	cli(b, "", "clone", "--quiet", "--depth=1", "--branch=main", url, dir)
	return dir
}

func cli(b *testing.B, dir string, args ...string) {
	b.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_TERMINAL_PROMPT=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("git %v: %v: %s", args, err, out)
	}
}

func BenchmarkPollNoChange(b *testing.B) {
	for _, s := range benchServers(b) {
		b.Run("jobsync/"+s.name, func(b *testing.B) {
			g, err := NewGit(benchOptions(b, s.url))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := g.Fetch(context.Background()); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				a, err := g.Fetch(context.Background())
				if err != nil || a.Changed {
					b.Fatalf("poll: %+v, %v", a, err)
				}
			}
		})
		b.Run("git-cli-fetch/"+s.name, func(b *testing.B) {
			dir := cliClone(b, s.url)
			b.ResetTimer()
			for b.Loop() {
				cli(b, dir, "fetch", "--quiet", "--depth=1", "origin", "main")
			}
		})
	}
}

func BenchmarkFetchOneCommit(b *testing.B) {
	for _, s := range benchServers(b) {
		n := 0
		push := func(b *testing.B) {
			b.StopTimer()
			n++
			s.repo.Commit(fmt.Sprintf("bench %d", n), map[string]string{"jobs/bench.yaml": fmt.Sprintf("n: %d\n", n)})
			b.StartTimer()
		}
		b.Run("jobsync/"+s.name, func(b *testing.B) {
			g, err := NewGit(benchOptions(b, s.url))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := g.Fetch(context.Background()); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				push(b)
				a, err := g.Fetch(context.Background())
				if err != nil || a.History != HistoryFastForward {
					b.Fatalf("fetch: %+v, %v", a, err)
				}
			}
		})
		b.Run("git-cli-fetch-checkout/"+s.name, func(b *testing.B) {
			dir := cliClone(b, s.url)
			for b.Loop() {
				push(b)
				cli(b, dir, "fetch", "--quiet", "--depth=1", "origin", "main")
				cli(b, dir, "checkout", "--quiet", "--detach", "FETCH_HEAD")
			}
		})
	}
}

func benchOptions(b *testing.B, url string) GitOptions {
	o := DefaultGitOptions()
	o.URL, o.Ref, o.CacheDir = url, Ref{Branch: "main"}, b.TempDir()
	return o
}
