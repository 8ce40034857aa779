package main

import (
	"context"

	"github.com/jobsync/jobsync/reconcile"
)

// source returns the reconcile source for --repo and a description of it
// for the start-up log. The loop renders --path below Snapshot.Dir and reads
// .jobsync.yaml at Snapshot.Dir, so the snapshot is the tree's root and the
// sub-path is left to the loop.
func (g *agentGitFlags) source(repo, ref, path, cacheDir string, env func(string) (string, bool)) (reconcile.Source, string, error) {
	src, err := newSource(repo, ref, "", cacheDir, (*sourceFlags)(g), env)
	if err != nil {
		return nil, "", err
	}
	fetch := reconcile.SourceFunc(func(ctx context.Context) (reconcile.Snapshot, error) {
		a, err := src.Fetch(ctx)
		if err != nil {
			return reconcile.Snapshot{}, err
		}
		return reconcile.Snapshot{Revision: a.Revision, Dir: a.Root}, nil
	})
	return fetch, src.String(), nil
}
