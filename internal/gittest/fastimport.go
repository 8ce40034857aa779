package gittest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// largeRepoVersion changes whenever the generated history changes, so that
// stale cached repositories are not reused.
const largeRepoVersion = 1

// LargeRepo returns a bare repository whose branch main has commits commits
// (the first adds files files under jobs/, each later one rewrites one of
// them). It is generated with `git fast-import` and cached under
// os.UserCacheDir()/jobsync-gittest, so only the first call on a machine pays
// for it; when there is no user cache directory it is built in a temporary
// directory. Treat the result as read-only: copy it with ImportRepo.
func LargeRepo(t testing.TB, commits, files int) string {
	t.Helper()
	if commits < 1 || files < 1 {
		t.Fatalf("gittest: LargeRepo needs commits >= 1 and files >= 1")
	}
	name := fmt.Sprintf("large-v%d-c%d-f%d.git", largeRepoVersion, commits, files)
	root, err := os.UserCacheDir()
	if err == nil {
		root = filepath.Join(root, "jobsync-gittest")
		err = os.MkdirAll(root, 0o755)
	}
	if err != nil {
		root = t.TempDir()
	}
	final := filepath.Join(root, name)
	if _, err := os.Stat(filepath.Join(final, "HEAD")); err == nil {
		return final
	}
	tmp, err := os.MkdirTemp(root, ".build-")
	if err != nil {
		t.Fatalf("gittest: %v", err)
	}
	defer os.RemoveAll(tmp)
	mustGit(t, tmp, "init", "--quiet", "--bare", "--initial-branch="+DefaultBranch, tmp)
	if err := fastImport(tmp, commits, files); err != nil {
		t.Fatalf("gittest: %v", err)
	}
	// Renaming a finished directory makes the cache entry appear whole; if
	// another process won the race, its copy is just as good.
	if err := os.Rename(tmp, final); err != nil {
		if _, statErr := os.Stat(filepath.Join(final, "HEAD")); statErr != nil {
			t.Fatalf("gittest: %v", err)
		}
	}
	return final
}

func fastImport(bare string, commits, files int) error {
	cmd := exec.Command("git", "fast-import", "--quiet", "--done")
	cmd.Dir = bare
	cmd.Env = append(cmd.Environ(), gitEnvironment...)
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		return err
	}
	werr := writeHistory(in, commits, files)
	cerr := in.Close()
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git fast-import: %w: %s", err, errb.String())
	}
	if werr != nil {
		return werr
	}
	return cerr
}

// writeHistory writes a fast-import stream: commit 1 adds every file, commit
// n > 1 rewrites file (n-2) % files.
func writeHistory(w io.Writer, commits, files int) error {
	b := bufio.NewWriterSize(w, 1<<20)
	data := func(s string) { fmt.Fprintf(b, "data %d\n%s\n", len(s), s) }
	for n := 1; n <= commits; n++ {
		fmt.Fprintf(b, "commit refs/heads/%s\nmark :%d\n", DefaultBranch, n)
		fmt.Fprintf(b, "committer gittest <gittest@example.com> %d +0000\n", 1_600_000_000+n)
		data(fmt.Sprintf("commit %d", n))
		if n > 1 {
			fmt.Fprintf(b, "from :%d\n", n-1)
			i := (n - 2) % files
			fmt.Fprintf(b, "M 100644 inline %s\n", largeRepoFile(i))
			data(largeRepoContent(i, n))
			continue
		}
		for i := 0; i < files; i++ {
			fmt.Fprintf(b, "M 100644 inline %s\n", largeRepoFile(i))
			data(largeRepoContent(i, n))
		}
	}
	fmt.Fprintf(b, "done\n")
	return b.Flush()
}

func largeRepoFile(i int) string { return fmt.Sprintf("jobs/job-%04d.yaml", i) }

func largeRepoContent(i, n int) string {
	return fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata:
  name: job-%04d
  annotations:
    gittest/commit: "%d"
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox:1.36
        command: ["sh", "-c", "echo %d"]
`, i, n, n)
}
