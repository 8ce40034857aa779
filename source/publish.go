package source

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// publish verifies commit, writes its tree into the cache (unless it is
// there already) and records it as the ref's last delivered revision.
func (f *fetch) publish(c *object.Commit, short string) (Artifact, error) {
	g := f.g
	rev := "sha1:" + c.Hash.String()
	if short != "" {
		rev = short + "@" + rev
	}
	art := Artifact{Revision: rev, Ref: short, Commit: c.Hash.String(), CacheReset: f.reset}
	if g.keyring != nil {
		signer, err := verifyCommit(c, g.keyring)
		if err != nil {
			return Artifact{}, fmt.Errorf("%s: %s: %w", g.remote.display, rev, err)
		}
		art.Signer = signer
	}
	prev := f.st.Refs[f.refKey()]
	if g.last != nil {
		prev = stateEntry{Revision: g.last.Revision, Commit: g.last.Commit}
	}
	art.Previous = prev.Revision
	art.Changed = prev.Revision != rev
	hist, err := f.history(c, prev.Commit)
	if err != nil {
		return Artifact{}, err
	}
	art.History = hist
	root := g.cache.checkoutDir(c.Hash.String(), g.opts.RecurseSubmodules)
	skipped, err := f.materialize(c, root)
	if err != nil {
		return Artifact{}, fmt.Errorf("%s: %s: %w", g.remote.display, rev, err)
	}
	art.Root, art.Dir, art.SkippedSubmodules = root, dirOf(root, g.sub), skipped
	if st, err := os.Stat(art.Dir); err != nil || !st.IsDir() {
		return Artifact{}, fmt.Errorf("%s: %s: %w: %q is not a directory in the tree", g.remote.display, rev, ErrPathNotFound, g.sub)
	}
	f.st.Refs[f.refKey()] = stateEntry{Revision: rev, Commit: art.Commit, Checkout: root}
	if err := g.cache.writeState(f.st); err != nil {
		return Artifact{}, fmt.Errorf("%s: %w", g.remote.display, err)
	}
	g.cache.prune(f.st, g.opts.KeepCheckouts)
	return art, nil
}

// materialize publishes c's tree at root: written into a temporary sibling
// directory, then renamed, so root is either absent or complete. An existing
// root is reused as it is. It returns the skipped submodule paths.
func (f *fetch) materialize(c *object.Commit, root string) ([]string, error) {
	tree, err := c.Tree()
	if err != nil {
		return nil, fmt.Errorf("tree: %w", err)
	}
	w := &treeWriter{repo: f.repo, limit: f.g.opts.MaxSize, recurse: f.g.opts.RecurseSubmodules, sub: f.subFetcher(c)}
	if _, err := os.Stat(root); err == nil {
		// Published earlier: complete by construction. Recompute only the
		// skipped submodules list.
		return w.listSubmodules(tree, "")
	}
	tmp, err := os.MkdirTemp(filepath.Dir(root), ".tmp-")
	if err != nil {
		return nil, fmt.Errorf("checkout: %w", err)
	}
	defer os.RemoveAll(tmp) // a no-op after the rename
	if err := w.write(tree, tmp, ""); err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, root); err != nil {
		if _, statErr := os.Stat(root); statErr == nil {
			return w.skipped, nil // published meanwhile: same content
		}
		return nil, fmt.Errorf("checkout: %w", err)
	}
	now := f.g.opts.Clock.Now()
	_ = os.Chtimes(root, now, now)
	return w.skipped, nil
}

// history tells how c relates to the previously delivered commit prev.
func (f *fetch) history(c *object.Commit, prev string) (History, error) {
	switch {
	case prev == "":
		return HistoryInitial, nil
	case prev == c.Hash.String():
		return HistoryUnchanged, nil
	}
	h, complete := walkFor(f.repo, c, plumbing.NewHash(prev), f.g.opts.HistoryDepth)
	if h != HistoryUnknown || complete || f.g.opts.Ref.Commit != "" {
		return h, nil
	}
	// A shallow cache: deepen the branch once and look again. (A tag that
	// moved is reported as unknown unless its history is already here.)
	if f.branch == "" {
		return HistoryUnknown, nil
	}
	local := "refs/jobsync/refs/heads/" + f.branch
	if err := f.fetchRefSpecs(f.g.opts.HistoryDepth, "+refs/heads/"+f.branch+":"+local); err != nil {
		if errors.Is(err, ErrTooLarge) {
			return "", err
		}
		return HistoryUnknown, nil //nolint:nilerr // history is informative; the commit itself is here
	}
	h, _ = walkFor(f.repo, c, plumbing.NewHash(prev), f.g.opts.HistoryDepth)
	return h, nil
}

// walkFor walks back from c at most depth commits looking for prev. It
// returns fast-forward when found, rewritten when the whole history was
// walked without finding it, and unknown (complete=false) when a missing
// (shallow) parent or the depth stopped the walk.
func walkFor(repo interface {
	CommitObject(plumbing.Hash) (*object.Commit, error)
}, c *object.Commit, prev plumbing.Hash, depth int) (h History, complete bool) {
	seen := map[plumbing.Hash]bool{c.Hash: true}
	queue := []*object.Commit{c}
	for n := 0; len(queue) > 0; n++ {
		if n >= depth {
			return HistoryUnknown, true
		}
		cur := queue[0]
		queue = queue[1:]
		for _, p := range cur.ParentHashes {
			if p == prev {
				return HistoryFastForward, true
			}
			if seen[p] {
				continue
			}
			seen[p] = true
			pc, err := repo.CommitObject(p)
			if err != nil {
				return HistoryUnknown, false
			}
			queue = append(queue, pc)
		}
	}
	return HistoryRewritten, true
}
