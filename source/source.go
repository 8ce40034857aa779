package source

import (
	"context"
	"errors"
)

// Source yields the current revision of a tree of manifests, on disk. The
// reconcile loop calls Fetch on every tick and renders Artifact.Dir.
type Source interface {
	// Fetch resolves the source's current revision and makes its tree
	// available on disk. A failed Fetch changes and removes nothing that an
	// earlier Fetch handed out: the last good Artifact stays usable.
	Fetch(ctx context.Context) (Artifact, error)
	// String describes the source for logs and status. It never contains
	// credentials.
	String() string
}

// Artifact is one revision of a source, on disk.
type Artifact struct {
	// Revision identifies the tree: "<ref>@sha1:<commit>" for a branch, tag
	// or semver range (ref is the branch or the chosen tag), "sha1:<commit>"
	// for an exact commit, "sha256:<content hash>" for a plain directory,
	// and "<ref>@sha1:<commit>+dirty:sha256:<content hash>" for a Git
	// working tree with uncommitted changes.
	Revision string
	// Ref is the branch or tag the revision came from ("" for an exact
	// commit or a plain directory).
	Ref string
	// Commit is the commit hash ("" for a plain directory).
	Commit string
	// Root is the root of the checked-out tree, Dir the directory the
	// source's sub-path names inside it (Root when there is none).
	//
	// A Git checkout directory is written completely before it is handed
	// out and never changed afterwards; it is removed only once
	// GitOptions.KeepCheckouts newer checkouts exist in the cache. A local
	// source hands out the directory itself.
	Root, Dir string
	// Changed is true when Revision differs from Previous, or there is no
	// Previous.
	Changed bool
	// Previous is the revision this source delivered before: from the
	// previous successful Fetch, or for a Git source's first Fetch, from
	// the cache's record of the last revision delivered for the same ref.
	Previous string
	// History tells how the commit relates to Previous's commit.
	History History
	// Dirty is true for a Git working tree with uncommitted changes below
	// Dir (local sources only).
	Dirty bool
	// Signer names the OpenPGP key that signed the commit, when signature
	// verification is on.
	Signer string
	// SkippedSubmodules lists the submodule paths left as empty
	// directories because GitOptions.RecurseSubmodules is off.
	SkippedSubmodules []string
	// CacheReset is not empty when the cache repository was found unusable
	// and fetched again from scratch; it says why.
	CacheReset string
}

// Rewritten reports whether the history was rewritten since Previous (a
// force-push, or a tag moved to a commit that does not descend from the
// old one).
func (a Artifact) Rewritten() bool { return a.History == HistoryRewritten }

// History is how a fetched commit relates to the previously delivered one.
type History string

// Values of History.
const (
	// HistoryInitial: nothing was delivered before for this ref.
	HistoryInitial History = "initial"
	// HistoryUnchanged: the same commit as before.
	HistoryUnchanged History = "unchanged"
	// HistoryFastForward: the previous commit is an ancestor of the new one.
	HistoryFastForward History = "fast-forward"
	// HistoryRewritten: the previous commit is not an ancestor of the new
	// one; the source followed the rewrite.
	HistoryRewritten History = "rewritten"
	// HistoryUnknown: the previous commit was not found within
	// GitOptions.HistoryDepth commits of the new one in a shallow cache, or
	// the source is a plain directory.
	HistoryUnknown History = "unknown"
)

// Errors a Fetch can wrap; test them with errors.Is. Messages never contain
// credentials.
var (
	// ErrInvalidOptions: the options cannot work (bad URL, ref, path, key).
	ErrInvalidOptions = errors.New("invalid source options")
	// ErrUnreachable: the server could not be reached or refused service
	// (connection refused, DNS, timeout, HTTP 5xx).
	ErrUnreachable = errors.New("git server unreachable")
	// ErrAuth: the server rejected the credentials, or needs some.
	ErrAuth = errors.New("authentication failed")
	// ErrTLS: the server's certificate could not be verified.
	ErrTLS = errors.New("tls verification failed")
	// ErrHostKeyUnknown: the SSH server's host key is not in known_hosts.
	ErrHostKeyUnknown = errors.New("ssh host key unknown")
	// ErrHostKeyChanged: known_hosts names a different key for the host.
	ErrHostKeyChanged = errors.New("ssh host key changed")
	// ErrRepoNotFound: the server has no such repository.
	ErrRepoNotFound = errors.New("repository not found")
	// ErrUnknownRef: no such branch, tag, matching tag or commit.
	ErrUnknownRef = errors.New("unknown ref")
	// ErrTooLarge: a fetch or a checkout exceeds GitOptions.MaxSize.
	ErrTooLarge = errors.New("repository too large")
	// ErrUnsafeSymlink: a symlink points outside the repository.
	ErrUnsafeSymlink = errors.New("symlink points outside the repository")
	// ErrUnsafePath: a tree entry has a name that cannot be checked out
	// safely ("..", ".git", a slash).
	ErrUnsafePath = errors.New("unsafe path in tree")
	// ErrPathNotFound: the sub-path is not a directory in the tree.
	ErrPathNotFound = errors.New("path not found")
	// ErrSubmodule: a submodule could not be fetched or is not allowed.
	ErrSubmodule = errors.New("submodule")
	// ErrSignature: signature verification is on and the commit is
	// unsigned or not signed by a key in the keyring.
	ErrSignature = errors.New("commit signature verification failed")
	// ErrCachePermission: the cache directory cannot be used by this
	// process's user (permission denied, owned by another user, not a
	// directory).
	ErrCachePermission = errors.New("cache directory not usable")
)
