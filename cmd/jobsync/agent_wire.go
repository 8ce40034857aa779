package main

import (
	"errors"

	"github.com/jobsync/jobsync/reconcile"
)

// source returns the reconcile source for --repo (wired to package source).
func (g *agentGitFlags) source(repo, ref, path, cacheDir string, env func(string) (string, bool)) (reconcile.Source, string, error) {
	return nil, "", errors.New("source: not wired yet")
}
