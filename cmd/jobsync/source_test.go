package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jobsync/jobsync/internal/gittest"
	"github.com/jobsync/jobsync/source"
)

func TestSourceFetchCommand(t *testing.T) {
	base := t.TempDir()
	repo := gittest.NewRepo(t, base, "app.git")
	head := repo.Commit("first", map[string]string{"jobs/a.yaml": "a: 1\n"})
	h := gittest.StartHTTP(t, base, gittest.HTTPOptions{Username: "alice", Password: "pw-from-file"})
	secrets := t.TempDir()
	for name, v := range map[string]string{"user": "alice\n", "pass": "pw-from-file\n", "wrong": "not-the-pw\n"} {
		if err := os.WriteFile(filepath.Join(secrets, name), []byte(v), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cache := t.TempDir()
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		code     int
		contains string
		stderr   string
	}{
		{name: "basic auth from files", code: exitOK, contains: "revision: main@sha1:" + head,
			args: []string{"--git-username-file", filepath.Join(secrets, "user"), "--git-password-file", filepath.Join(secrets, "pass"), "--path", "jobs"}},
		{name: "password from the environment", code: exitOK, contains: "dir:      " + cache,
			env: map[string]string{"JOBSYNC_GIT_USERNAME": "alice", "JOBSYNC_GIT_PASSWORD": "pw-from-file"}},
		{name: "wrong password", code: exitFindings, stderr: "authentication failed",
			args: []string{"--git-username-file", filepath.Join(secrets, "user"), "--git-password-file", filepath.Join(secrets, "wrong")}},
		{name: "bad ref", code: exitUsage, stderr: "--ref", args: []string{"--ref", "semver:nope nope"}},
		{name: "missing password file", code: exitUsage, stderr: "--git-password-file", args: []string{"--git-password-file", "/nonexistent"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append([]string{"source", "fetch", h.URL("app.git"), "--ref", "main", "--cache-dir", cache}, tc.args...)
			env := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			code := runEnv(args, nil, &out, &errb, env)
			if code != tc.code {
				t.Fatalf("exit %d, want %d; stderr %q", code, tc.code, errb.String())
			}
			if !strings.Contains(out.String(), tc.contains) || !strings.Contains(errb.String(), tc.stderr) {
				t.Fatalf("stdout %q stderr %q; want %q / %q", out.String(), errb.String(), tc.contains, tc.stderr)
			}
			for _, sec := range []string{"pw-from-file", "not-the-pw"} {
				if strings.Contains(out.String()+errb.String(), sec) {
					t.Fatalf("output shows the secret %q", sec)
				}
			}
		})
	}
	t.Run("a directory that does not exist", func(t *testing.T) {
		var out, errb bytes.Buffer
		missing := filepath.Join(t.TempDir(), "missing")
		code := run([]string{"source", "fetch", missing, "--cache-dir", cache}, nil, &out, &errb)
		if code != exitUsage || !strings.Contains(errb.String(), missing+": no such directory, and not a Git URL") {
			t.Fatalf("exit %d, stderr %q; want %d and a no-such-directory error", code, errb.String(), exitUsage)
		}
	})
	t.Run("no --ref: the remote's default branch", func(t *testing.T) {
		var out, errb bytes.Buffer
		env := func(k string) (string, bool) {
			v, ok := map[string]string{"JOBSYNC_GIT_USERNAME": "alice", "JOBSYNC_GIT_PASSWORD": "pw-from-file"}[k]
			return v, ok
		}
		code := runEnv([]string{"source", "fetch", h.URL("app.git"), "--cache-dir", cache}, nil, &out, &errb, env)
		if code != exitOK || !strings.Contains(out.String(), "revision: main@sha1:"+head) {
			t.Fatalf("exit %d, stdout %q, stderr %q; want revision main@sha1:%s", code, out.String(), errb.String(), head)
		}
	})
	t.Run("adapted for the reconcile loop", func(t *testing.T) {
		src, err := newSource(h.URL("app.git"), "main", "jobs", cache, &sourceFlags{}, func(k string) (string, bool) {
			v, ok := map[string]string{"JOBSYNC_GIT_USERNAME": "alice", "JOBSYNC_GIT_PASSWORD": "pw-from-file"}[k]
			return v, ok
		})
		if err != nil {
			t.Fatal(err)
		}
		var seen []string
		snap, err := reconcileSource(src, func(a source.Artifact) { seen = append(seen, string(a.History)) }).Fetch(context.Background())
		if err != nil || snap.Revision != "main@sha1:"+head || filepath.Base(snap.Dir) != "jobs" || len(seen) != 1 {
			t.Fatalf("snapshot = %+v, %v (observed %v)", snap, err, seen)
		}
		if b, err := os.ReadFile(filepath.Join(snap.Dir, "a.yaml")); err != nil || string(b) != "a: 1\n" {
			t.Fatalf("a.yaml = %q, %v", b, err)
		}
	})
	t.Run("local directory", func(t *testing.T) {
		var out, errb bytes.Buffer
		if code := runEnv([]string{"source", "fetch", repo.Work}, nil, &out, &errb, nil); code != exitOK {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		if !strings.Contains(out.String(), "revision: main@sha1:"+head+"\n") {
			t.Fatalf("stdout %q", out.String())
		}
	})
}
