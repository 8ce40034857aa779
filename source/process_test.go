package source

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// helperFetch makes the test binary a fetching process instead of running
// tests: "-helper-fetch URL|CACHE" fetches main and prints the revision.
var helperFetch = flag.String("helper-fetch", "", "internal: fetch URL|CACHE and exit")

// helperRSS makes -helper-fetch print its RSS before and its peak after.
var helperRSS = flag.Bool("helper-rss", false, "internal: with -helper-fetch, print idle RSS and VmHWM")

func TestMain(m *testing.M) {
	flag.Parse()
	if *helperFetch != "" {
		os.Exit(runHelperFetch(*helperFetch))
	}
	os.Exit(m.Run())
}

func runHelperFetch(arg string) int {
	url, cache, _ := strings.Cut(arg, "|")
	opts := DefaultGitOptions()
	opts.URL, opts.Ref, opts.CacheDir = url, Ref{Branch: "main"}, cache
	g, err := NewGit(opts)
	if *helperRSS {
		printRSS("idle")
		defer printRSS("VmHWM")
	}
	if err == nil {
		var a Artifact
		if a, err = g.Fetch(context.Background()); err == nil {
			if _, statErr := os.Stat(filepath.Join(a.Dir, "jobs", "a.yaml")); statErr != nil {
				err = statErr
			}
			fmt.Println(a.Revision)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// TestSharedCacheAcrossProcesses: several real processes fetch the same
// repository into one cache at once; each gets a complete checkout.
func TestSharedCacheAcrossProcesses(t *testing.T) {
	f := newFixture(t)
	head := f.repo.Commit("second", map[string]string{"jobs/a.yaml": "a: 2\n"})
	cache := t.TempDir()
	const procs = 4
	var wg sync.WaitGroup
	outs := make([]string, procs)
	errs := make([]error, procs)
	for i := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(os.Args[0], "-helper-fetch", f.daemon.URL("app.git")+"|"+cache)
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Run(); err != nil {
				errs[i] = fmt.Errorf("process %d: %w: %s", i, err, errb.String())
			}
			outs[i] = strings.TrimSpace(out.String())
		}()
	}
	wg.Wait()
	for i := range procs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if outs[i] != "main@sha1:"+head {
			t.Fatalf("process %d printed %q, want main@sha1:%s", i, outs[i], head)
		}
	}
	if tmp, _ := filepath.Glob(filepath.Join(cache, "git", "*", "checkouts", ".tmp-*")); len(tmp) != 0 {
		t.Fatalf("half-written checkouts left: %v", tmp)
	}
}
