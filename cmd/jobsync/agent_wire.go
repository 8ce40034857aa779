package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/jobsync/jobsync/reconcile"
)

// source returns the reconcile source for --repo (wired to package source).
func (g *agentGitFlags) source(repo, ref, path, cacheDir string, env func(string) (string, bool)) (reconcile.Source, string, error) {
	return nil, "", errors.New("source: not wired yet")
}

func openEmbeddedTarget(ctx context.Context, f agentFlags, log *slog.Logger, why string) (*openedTarget, error) {
	return nil, errors.New("embedded target: not wired yet")
}
