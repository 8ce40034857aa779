package gittest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// DefaultBranch is the branch NewRepo starts on.
const DefaultBranch = "main"

// Repo is a bare repository (what the servers serve) plus a working clone of
// it where commits are made with the git CLI and pushed. Every method fails
// the test on error.
type Repo struct {
	t testing.TB
	// Name is the repository's path relative to the base directory the
	// servers serve, e.g. "app.git".
	Name string
	// Bare is the bare repository's directory.
	Bare string
	// Work is the working clone's directory.
	Work string

	mu     sync.Mutex
	branch string
	clock  int64
}

// NewRepo creates an empty bare repository base/name and a working clone of
// it on branch main.
func NewRepo(t testing.TB, base, name string) *Repo {
	t.Helper()
	bare := filepath.Join(base, name)
	if err := os.MkdirAll(filepath.Dir(bare), 0o755); err != nil {
		t.Fatalf("gittest: %v", err)
	}
	mustGit(t, base, "init", "--quiet", "--bare", "--initial-branch="+DefaultBranch, bare)
	return newRepo(t, name, bare)
}

// ImportRepo copies the bare repository src (for example LargeRepo's) to
// base/name, sharing unchanged object files by hard links, and makes a
// working clone of it. Pushing to the copy never changes src.
func ImportRepo(t testing.TB, base, name, src string) *Repo {
	t.Helper()
	bare := filepath.Join(base, name)
	mustGit(t, base, "clone", "--quiet", "--bare", "--local", src, bare)
	// A local clone records src as origin; the copy stands on its own.
	mustGit(t, bare, "remote", "remove", "origin")
	return newRepo(t, name, bare)
}

func newRepo(t testing.TB, name, bare string) *Repo {
	t.Helper()
	work := filepath.Join(t.TempDir(), "work")
	mustGit(t, filepath.Dir(work), "clone", "--quiet", "--local", bare, work)
	r := &Repo{t: t, Name: name, Bare: bare, Work: work, branch: DefaultBranch, clock: 1_700_000_000}
	if out, err := runGit(work, nil, nil, "symbolic-ref", "--short", "HEAD"); err == nil {
		r.branch = strings.TrimSpace(out)
	}
	return r
}

// Branch returns the branch the working clone is on.
func (r *Repo) Branch() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.branch
}

// Git runs git with args in the working clone and returns its trimmed stdout.
func (r *Repo) Git(args ...string) string {
	r.t.Helper()
	return strings.TrimSpace(r.gitEnv(nil, nil, args...))
}

func (r *Repo) gitEnv(env []string, stdin []byte, args ...string) string {
	r.t.Helper()
	r.mu.Lock()
	r.clock++
	date := fmt.Sprintf("@%d +0000", r.clock)
	r.mu.Unlock()
	env = append([]string{"GIT_AUTHOR_DATE=" + date, "GIT_COMMITTER_DATE=" + date}, env...)
	out, err := runGit(r.Work, env, stdin, args...)
	if err != nil {
		r.t.Fatalf("gittest: %v", err)
	}
	return out
}

// WriteFiles writes files (path relative to the work tree → content) without
// committing them.
func (r *Repo) WriteFiles(files map[string]string) {
	r.t.Helper()
	for _, p := range sortedKeys(files) {
		full := filepath.Join(r.Work, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			r.t.Fatalf("gittest: %v", err)
		}
		if err := os.WriteFile(full, []byte(files[p]), 0o644); err != nil {
			r.t.Fatalf("gittest: %v", err)
		}
	}
}

// Remove deletes paths from the work tree without committing.
func (r *Repo) Remove(paths ...string) {
	r.t.Helper()
	for _, p := range paths {
		if err := os.RemoveAll(filepath.Join(r.Work, filepath.FromSlash(p))); err != nil {
			r.t.Fatalf("gittest: %v", err)
		}
	}
}

// Symlink creates the symbolic link name → target in the work tree without
// committing. target is stored verbatim, so it may point anywhere.
func (r *Repo) Symlink(name, target string) {
	r.t.Helper()
	full := filepath.Join(r.Work, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		r.t.Fatalf("gittest: %v", err)
	}
	_ = os.Remove(full)
	if err := os.Symlink(target, full); err != nil {
		r.t.Fatalf("gittest: %v", err)
	}
}

// Commit writes files, stages everything in the work tree (including earlier
// WriteFiles, Remove and Symlink calls), commits with msg and pushes the
// current branch, forcing it (so a Reset followed by Commit is a
// force-push). It returns the new commit's hash.
func (r *Repo) Commit(msg string, files map[string]string) string {
	r.t.Helper()
	r.WriteFiles(files)
	r.Git("add", "--all")
	r.Git("commit", "--quiet", "--allow-empty", "-m", msg)
	r.push()
	return r.Head()
}

func (r *Repo) push() {
	r.t.Helper()
	b := r.Branch()
	r.Git("push", "--quiet", "--force", "origin", "HEAD:refs/heads/"+b)
}

// Head returns the hash of the working clone's HEAD.
func (r *Repo) Head() string {
	r.t.Helper()
	return r.Git("rev-parse", "HEAD")
}

// RevParse resolves rev in the working clone.
func (r *Repo) RevParse(rev string) string {
	r.t.Helper()
	return r.Git("rev-parse", "--verify", rev+"^{commit}")
}

// Switch moves the working clone to branch, creating it at from when from
// is not empty ("" keeps an existing branch as it is).
func (r *Repo) Switch(branch, from string) {
	r.t.Helper()
	if from != "" {
		r.Git("checkout", "--quiet", "-B", branch, from)
	} else {
		r.Git("checkout", "--quiet", branch)
	}
	r.mu.Lock()
	r.branch = branch
	r.mu.Unlock()
}

// Reset moves the current branch of the working clone to rev (hard reset)
// without pushing; the next Commit force-pushes the rewritten branch.
func (r *Repo) Reset(rev string) {
	r.t.Helper()
	r.Git("reset", "--quiet", "--hard", rev)
}

// ForcePush resets the current branch to rev and force-pushes it.
func (r *Repo) ForcePush(rev string) {
	r.t.Helper()
	r.Reset(rev)
	r.push()
}

// Tag creates a lightweight tag at rev ("" = HEAD) and pushes it, moving an
// existing tag of that name.
func (r *Repo) Tag(name, rev string) {
	r.t.Helper()
	if rev == "" {
		rev = "HEAD"
	}
	r.Git("tag", "--force", name, rev)
	r.Git("push", "--quiet", "--force", "origin", "refs/tags/"+name)
}

// AnnotatedTag creates an annotated tag with message msg at rev ("" = HEAD)
// and pushes it.
func (r *Repo) AnnotatedTag(name, rev, msg string) {
	r.t.Helper()
	if rev == "" {
		rev = "HEAD"
	}
	r.Git("tag", "--force", "--annotate", "-m", msg, name, rev)
	r.Git("push", "--quiet", "--force", "origin", "refs/tags/"+name)
}

// DeleteRef deletes ref (e.g. "refs/heads/x" or "refs/tags/v1") from the
// bare repository.
func (r *Repo) DeleteRef(ref string) {
	r.t.Helper()
	r.Git("push", "--quiet", "origin", ":"+ref)
}

// AddSubmodule stages a submodule at path that points at commit of the
// repository url (written to .gitmodules verbatim, so relative URLs such
// as "../lib.git" work). Commit it with Commit.
func (r *Repo) AddSubmodule(path, url, commit string) {
	r.t.Helper()
	// An empty directory stands for the submodule's work tree, so that
	// Commit's `git add --all` keeps the gitlink.
	if err := os.MkdirAll(filepath.Join(r.Work, filepath.FromSlash(path)), 0o755); err != nil {
		r.t.Fatalf("gittest: %v", err)
	}
	r.Git("config", "--file", ".gitmodules", "submodule."+path+".path", path)
	r.Git("config", "--file", ".gitmodules", "submodule."+path+".url", url)
	r.Git("update-index", "--add", "--cacheinfo", "160000,"+commit+","+path)
	r.Git("add", ".gitmodules")
}

// SignHead replaces HEAD with the same commit carrying a gpgsig header made
// by sign (which receives the commit object without signature and returns
// an armored detached signature), then force-pushes it. It returns the new
// commit hash. The commit object is written by `git hash-object`.
func (r *Repo) SignHead(sign func(payload []byte) ([]byte, error)) string {
	r.t.Helper()
	raw := r.gitEnv(nil, nil, "cat-file", "commit", "HEAD")
	sig, err := sign([]byte(raw))
	if err != nil {
		r.t.Fatalf("gittest: sign: %v", err)
	}
	signed, err := insertSignature([]byte(raw), sig)
	if err != nil {
		r.t.Fatalf("gittest: %v", err)
	}
	hash := strings.TrimSpace(r.gitEnv(nil, signed, "hash-object", "-t", "commit", "-w", "--stdin"))
	r.Git("reset", "--quiet", "--soft", hash)
	r.push()
	return hash
}

// insertSignature adds a gpgsig header (continuation lines indented by one
// space) after the last header line of a raw commit object.
func insertSignature(raw, sig []byte) ([]byte, error) {
	end := bytes.Index(raw, []byte("\n\n"))
	if end < 0 {
		return nil, fmt.Errorf("commit object has no message separator")
	}
	lines := strings.Split(strings.TrimRight(string(sig), "\n"), "\n")
	var b bytes.Buffer
	b.Write(raw[:end+1])
	b.WriteString("gpgsig " + lines[0] + "\n")
	for _, l := range lines[1:] {
		b.WriteString(" " + l + "\n")
	}
	b.Write(raw[end+1:])
	return b.Bytes(), nil
}

// gitEnvironment isolates git from the user's and system's configuration.
var gitEnvironment = []string{
	"GIT_CONFIG_NOSYSTEM=1",
	"GIT_CONFIG_GLOBAL=/dev/null",
	"GIT_TERMINAL_PROMPT=0",
	"GIT_AUTHOR_NAME=gittest", "GIT_AUTHOR_EMAIL=gittest@example.com",
	"GIT_COMMITTER_NAME=gittest", "GIT_COMMITTER_EMAIL=gittest@example.com",
	"LC_ALL=C",
}

func runGit(dir string, env []string, stdin []byte, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(append(cmd.Environ(), gitEnvironment...), env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("git %s (in %s): %w: %s", strings.Join(args, " "), dir, err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

func mustGit(t testing.TB, dir string, args ...string) string {
	t.Helper()
	out, err := runGit(dir, nil, nil, args...)
	if err != nil {
		t.Fatalf("gittest: %v", err)
	}
	return out
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
