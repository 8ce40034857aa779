package source

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"k8s.io/utils/clock"
)

// Git is a Source that fetches one ref of a remote repository into a cache
// directory. It is safe for concurrent use, and any number of Git values (in
// any number of processes) may share one CacheDir.
type Git struct {
	opts    GitOptions
	remote  remoteURL
	sub     string
	keyring openpgp.EntityList
	cache   cache

	mu   sync.Mutex
	last *Artifact
}

// NewGit checks opts and returns a Git source. Nothing is fetched yet.
func NewGit(opts GitOptions) (*Git, error) {
	r, err := parseRemoteURL(opts.URL)
	if err != nil {
		return nil, err
	}
	if err := opts.Ref.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", r.display, err)
	}
	sub, err := cleanSubPath(opts.Path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.display, err)
	}
	if opts.CacheDir == "" {
		return nil, fmt.Errorf("%s: %w: cache dir is empty", r.display, ErrInvalidOptions)
	}
	if opts.HistoryDepth < 1 {
		opts.HistoryDepth = 1
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	g := &Git{opts: opts, remote: r, sub: sub, cache: newCache(opts.CacheDir, r.display)}
	if len(opts.Keyring) > 0 {
		if g.keyring, err = readKeyring(opts.Keyring); err != nil {
			return nil, fmt.Errorf("%s: %w", r.display, err)
		}
	}
	if _, err := newTransportAuth(r, opts.Auth); err != nil {
		return nil, fmt.Errorf("%s: %w", r.display, err)
	}
	return g, nil
}

// String is the URL without credentials, the ref and the path.
func (g *Git) String() string {
	s := g.remote.display + " " + g.opts.Ref.String()
	if g.sub != "" {
		s += " path " + g.sub
	}
	return s
}

// Fetch resolves the ref on the server, fetches what is missing into the
// cache and publishes the commit's tree. See Source.
func (g *Git) Fetch(ctx context.Context) (Artifact, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	unlock, err := g.cache.lock(ctx)
	if err != nil {
		return Artifact{}, fmt.Errorf("%s: %w", g.remote.display, err)
	}
	defer unlock()
	auth, err := newTransportAuth(g.remote, g.opts.Auth)
	if err != nil {
		return Artifact{}, fmt.Errorf("%s: %w", g.remote.display, err)
	}
	f := &fetch{g: g, ctx: ctx, auth: auth, st: g.cache.readState()}
	art, err := f.run()
	if err != nil && f.retryable(err) {
		// A cache that breaks mid-fetch (a truncated pack, a missing
		// object) is thrown away and fetched once more from scratch.
		if rmErr := os.RemoveAll(f.repoDir()); rmErr == nil {
			reason := fmt.Sprintf("cache repository was unusable (%v); fetched again", auth.secret.string(err.Error()))
			f = &fetch{g: g, ctx: ctx, auth: auth, st: f.st, forcedReset: reason}
			art, err = f.run()
		}
	}
	if err != nil {
		return Artifact{}, auth.secret.error(err)
	}
	g.last = &art
	return art, nil
}

// fetch is one Fetch call's working state.
type fetch struct {
	g           *Git
	ctx         context.Context
	auth        *transportAuth
	st          state
	repo        *git.Repository
	reset       string
	forcedReset string
	network     bool // the error came from talking to the server
	// branch is the remote branch the ref resolved to ("" for a tag or a
	// commit), which history deepens when it needs to.
	branch string
}

func (f *fetch) full() bool { return f.g.opts.Ref.Commit != "" || !f.g.opts.Shallow }
func (f *fetch) refKey() string {
	return fmt.Sprintf("%s|%s|submodules=%t", f.g.opts.Ref.String(), f.g.sub, f.g.opts.RecurseSubmodules)
}

// repoName is the cache repository this fetch uses.
func (f *fetch) repoName() string {
	if f.full() {
		return "full.git"
	}
	return "shallow.git"
}

func (f *fetch) repoDir() string { return f.g.cache.dir + "/" + f.repoName() }

// retryable: errors that a fresh cache repository may cure.
func (f *fetch) retryable(err error) bool {
	if f.network || f.forcedReset != "" || f.ctx.Err() != nil {
		return false
	}
	for _, e := range []error{ErrInvalidOptions, ErrUnknownRef, ErrTooLarge, ErrUnsafeSymlink, ErrUnsafePath,
		ErrPathNotFound, ErrSubmodule, ErrSignature, ErrCachePermission} {
		if errors.Is(err, e) {
			return false
		}
	}
	return true
}

func (f *fetch) run() (Artifact, error) {
	g := f.g
	repo, reset, err := g.cache.openRepo(f.repoName(), g.remote.display, g.opts.MaxSize)
	if err != nil {
		return Artifact{}, fmt.Errorf("%s: %w", g.remote.display, err)
	}
	f.repo, f.reset = repo, reset
	if f.forcedReset != "" {
		f.reset = f.forcedReset
	}
	commit, short, err := f.resolveAndFetch()
	if err != nil {
		return Artifact{}, err
	}
	return f.publish(commit, short)
}

// resolveAndFetch finds the commit the ref names and makes sure it is in
// the cache repository. short is the ref part of the revision ("" for an
// exact commit).
func (f *fetch) resolveAndFetch() (*object.Commit, string, error) {
	g := f.g
	if g.opts.Ref.Commit != "" {
		h := plumbing.NewHash(g.opts.Ref.Commit)
		if c, err := f.repo.CommitObject(h); err == nil {
			return c, "", nil
		}
		if err := f.fetchRefSpecs(0, "+refs/heads/*:refs/remotes/origin/heads/*", "+refs/tags/*:refs/tags/*"); err != nil {
			return nil, "", err
		}
		c, err := f.repo.CommitObject(h)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w: commit %s is not reachable from any branch or tag", g.remote.display, ErrUnknownRef, g.opts.Ref.Commit)
		}
		return c, "", nil
	}
	refs, err := f.list()
	if err != nil {
		return nil, "", err
	}
	res, err := g.opts.Ref.resolve(refs)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", g.remote.display, err)
	}
	if res.name.IsBranch() {
		f.branch = res.name.Short()
	}
	local := plumbing.ReferenceName("refs/jobsync/" + string(res.name))
	if c, err := peelCommit(f.repo, res.hash); err == nil {
		// Nothing new on the server: no fetch at all.
		return c, res.short, nil
	}
	depth := 0
	if g.opts.Shallow {
		depth = 1
	}
	if err := f.fetchRefSpecs(depth, "+"+string(res.name)+":"+string(local)); err != nil {
		return nil, "", err
	}
	c, err := peelCommit(f.repo, res.hash)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %s: fetched, but %w", g.remote.display, g.opts.Ref, err)
	}
	return c, res.short, nil
}

// list is `git ls-remote` with peeled tags appended.
func (f *fetch) list() ([]*plumbing.Reference, error) {
	rem := git.NewRemote(nil, &config.RemoteConfig{Name: "origin", URLs: []string{f.g.remote.display}})
	refs, err := rem.ListContext(f.ctx, &git.ListOptions{Auth: f.auth.method, CABundle: f.auth.ca, PeelingOption: git.AppendPeeled})
	if err != nil {
		f.network = true
		return nil, f.auth.classify(f.ctx, "list refs of", f.g.remote.display, err)
	}
	return refs, nil
}

// fetchRefSpecs fetches specs (depth 0: whole history), bounded by MaxSize.
func (f *fetch) fetchRefSpecs(depth int, specs ...string) error {
	rs := make([]config.RefSpec, len(specs))
	for i, s := range specs {
		rs[i] = config.RefSpec(s)
	}
	ctx, cancel := context.WithCancel(f.ctx)
	defer cancel()
	over := watchSize(ctx, cancel, f.repoDir(), f.g.opts.MaxSize)
	err := f.repo.FetchContext(ctx, &git.FetchOptions{
		RemoteName: "origin", RefSpecs: rs, Depth: depth, Auth: f.auth.method,
		CABundle: f.auth.ca, Tags: git.NoTags, Force: true,
	})
	if over() {
		return fmt.Errorf("%s: %w: the fetch exceeded --max-size %d bytes", f.g.remote.display, ErrTooLarge, f.g.opts.MaxSize)
	}
	if errors.Is(err, ErrTooLarge) || errors.Is(err, ErrCachePermission) { // from guardedStorage
		return fmt.Errorf("%s: %w", f.g.remote.display, err)
	}
	if err != nil && !errors.Is(err, git.NoErrAlreadyUpToDate) {
		f.network = !isLocalStorageError(err)
		return f.auth.classify(f.ctx, "fetch from", f.g.remote.display, err)
	}
	return nil
}

func isLocalStorageError(err error) bool {
	return errors.Is(err, plumbing.ErrObjectNotFound) || errors.Is(err, os.ErrNotExist)
}

// peelCommit follows annotated tags from h to a commit.
func peelCommit(repo *git.Repository, h plumbing.Hash) (*object.Commit, error) {
	for range 10 {
		obj, err := repo.Object(plumbing.AnyObject, h)
		if err != nil {
			return nil, fmt.Errorf("object %s: %w", h, err)
		}
		switch o := obj.(type) {
		case *object.Commit:
			return o, nil
		case *object.Tag:
			h = o.Target
		default:
			return nil, fmt.Errorf("object %s is a %s, not a commit", h, obj.Type())
		}
	}
	return nil, fmt.Errorf("object %s: tag chain too long", h)
}

// watchSize cancels the fetch when the cache repository's pack directory
// grows by more than limit bytes. over reports whether it did.
func watchSize(ctx context.Context, cancel func(), repoDir string, limit int64) (over func() bool) {
	if limit <= 0 {
		return func() bool { return false }
	}
	packs := repoDir + "/objects/pack"
	start := dirSize(packs)
	var (
		mu  sync.Mutex
		hit bool
	)
	check := func() bool {
		mu.Lock()
		defer mu.Unlock()
		if !hit && dirSize(packs)-start > limit {
			hit = true
			cancel()
		}
		return hit
	}
	go func() {
		t := time.NewTicker(20 * time.Millisecond) // a watchdog, not a schedule
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				check()
			}
		}
	}()
	return check
}

func dirSize(dir string) int64 {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var n int64
	for _, e := range entries {
		if info, err := e.Info(); err == nil {
			n += info.Size()
		}
	}
	return n
}
