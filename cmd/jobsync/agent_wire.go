package main

import (
	"log/slog"

	"github.com/jobsync/jobsync/reconcile"
	"github.com/jobsync/jobsync/source"
)

// source returns the reconcile source for --repo and a description of it
// for the start-up log. The loop renders --path below Snapshot.Dir and reads
// .jobsync.yaml at Snapshot.Dir, so the source is given no sub-path (its
// Dir is the tree's root) and the sub-path is left to the loop. What the
// source noticed on the way (a rewritten history, a cache fetched again,
// skipped submodules) is logged.
func (g *agentGitFlags) source(repo, ref, cacheDir string, env func(string) (string, bool), log *slog.Logger) (reconcile.Source, string, error) {
	src, err := newSource(repo, ref, "", cacheDir, g, env)
	if err != nil {
		return nil, "", err
	}
	return reconcileSource(src, func(a source.Artifact) { logArtifact(log, a) }), src.String(), nil
}

// logArtifact says what a fetch noticed besides the revision, once per new
// revision.
func logArtifact(log *slog.Logger, a source.Artifact) {
	if !a.Changed {
		return
	}
	if a.Rewritten() {
		log.Warn("history rewritten (force-push or moved tag): applying the new tip", "previous", a.Previous, "revision", a.Revision)
	}
	if a.CacheReset != "" {
		log.Warn("git cache was unusable and was fetched again", "why", a.CacheReset)
	}
	if len(a.SkippedSubmodules) > 0 {
		log.Info("submodules left empty (--recurse-submodules is off)", "paths", a.SkippedSubmodules)
	}
	if a.Signer != "" {
		log.Info("commit signature verified", "revision", a.Revision, "signer", a.Signer)
	}
}
