// Package source puts one revision of a tree of manifests on disk: from a Git
// repository (go-git; any common auth; a shared, incrementally fetched cache)
// or from a local directory.
//
// The entry points are NewGit and NewLocal; both return a Source whose
// Fetch(ctx) yields an Artifact (revision string, checked-out directory).
//
//	g, err := source.NewGit(opts) // opts from DefaultGitOptions()
//	art, err := g.Fetch(ctx)      // art.Revision "main@sha1:…", art.Dir
//
// Git checkouts are written into a temporary directory and renamed into
// place, so a handed-out directory is always complete and never changes; a
// failed Fetch leaves the last good checkout as it was. Errors wrap the
// sentinel errors of this package (ErrAuth, ErrUnknownRef, …) and never
// contain credentials.
package source
