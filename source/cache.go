package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/go-git/go-billy/v5/osfs"
	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	gitcache "github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/storage"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// cache is the part of CacheDir that belongs to one remote URL:
//
//	<CacheDir>/git/<sha256(url)[:16]>/
//	  lock            flock(2)ed for the whole of a Fetch
//	  shallow.git/    bare repository for shallow branch/tag fetches
//	  full.git/       bare repository with whole histories (commits, submodules)
//	  state.json      last revision delivered per ref
//	  checkouts/<commit>[-s]/   published trees (never changed once renamed in)
type cache struct {
	root string // CacheDir
	dir  string
}

func newCache(root, url string) cache {
	sum := sha256.Sum256([]byte(url))
	return cache{root: root, dir: filepath.Join(root, "git", hex.EncodeToString(sum[:8]))}
}

// lock takes the cache's exclusive lock, waiting until it is free or ctx is
// done. The lock is released by the returned function (and by the kernel if
// the process dies).
func (c cache) lock(ctx context.Context) (func(), error) {
	if err := c.prepare(); err != nil {
		return nil, err
	}
	f, err := privateOpen(filepath.Join(c.dir, "lock"), os.O_CREATE|os.O_RDWR)
	if err != nil {
		return nil, err
	}
	unlock := func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}
	got := make(chan error, 1)
	go func() {
		for {
			err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
			if !errors.Is(err, syscall.EINTR) {
				got <- err
				return
			}
		}
	}()
	select {
	case err := <-got:
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("cache: lock: %w", err)
		}
		return unlock, nil
	case <-ctx.Done():
		go func() { // give the lock back as soon as it is granted
			if <-got == nil {
				unlock()
			} else {
				f.Close()
			}
		}()
		return nil, fmt.Errorf("cache: waiting for the lock: %w", ctx.Err())
	}
}

// openRepo opens (or creates) the bare repository name ("shallow.git" or
// "full.git") with origin set to url. A repository that cannot be read is
// removed and created again; reset then says why.
func (c cache) openRepo(name, url string, limit int64) (repo *git.Repository, reset string, err error) {
	dir := filepath.Join(c.dir, name)
	// Spool files of a crashed fetch (guardedStorage); the lock is held.
	if leftovers, _ := filepath.Glob(filepath.Join(dir, "incoming-pack-*")); len(leftovers) > 0 {
		for _, l := range leftovers {
			_ = os.Remove(l)
		}
	}
	if _, statErr := os.Stat(dir); statErr == nil {
		repo, err = git.Open(newStorage(dir, limit), nil)
		if err == nil {
			err = checkRepo(repo)
		}
		if err == nil {
			return repo, "", nil
		}
		reset = fmt.Sprintf("cache repository %s was unusable (%v); fetched again", name, err)
		if rmErr := os.RemoveAll(dir); rmErr != nil {
			return nil, "", fmt.Errorf("cache: remove corrupt %s: %w", dir, rmErr)
		}
	}
	repo, err = git.Init(newStorage(dir, limit), nil)
	if err != nil {
		return nil, "", fmt.Errorf("cache: init %s: %w", dir, err)
	}
	_, err = repo.CreateRemote(&config.RemoteConfig{Name: "origin", URLs: []string{url}})
	if err != nil {
		return nil, "", fmt.Errorf("cache: %w", err)
	}
	return repo, reset, nil
}

// Memory bounds of a cache repository (docs/source.md, Memory). go-git's
// defaults keep up to 96 MiB of decoded objects and read every object whole
// into memory, so a checkout of one big blob held it two or three times.
const (
	// objectCacheSize bounds the decoded objects kept between reads (trees
	// and commits of the history walk, small blobs).
	objectCacheSize = 8 * gitcache.MiByte
	// largeObject is the size above which a blob is streamed from its pack
	// file (inflated as it is read) instead of being read into memory.
	largeObject = 1 << 20
)

// newStorage is go-git's filesystem storage of the bare repository dir with
// a bounded object cache, streaming big objects (filesystem.Options
// LargeObjectThreshold) instead of git.PlainOpen's defaults.
// With limit > 0 each incoming pack is checked first (guardedStorage).
func newStorage(dir string, limit int64) storage.Storer {
	s := filesystem.NewStorageWithOptions(osfs.New(dir), gitcache.NewObjectLRU(objectCacheSize),
		filesystem.Options{LargeObjectThreshold: largeObject})
	if limit <= 0 {
		return s
	}
	return &guardedStorage{Storage: s, dir: dir, limit: limit}
}

// checkRepo reads the configuration and every reference's commit and tree,
// which finds truncated or garbled packs, indexes and ref files.
func checkRepo(repo *git.Repository) error {
	if _, err := repo.Config(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	refs, err := repo.References()
	if err != nil {
		return fmt.Errorf("references: %w", err)
	}
	defer refs.Close()
	return refs.ForEach(func(r *plumbing.Reference) error {
		if r.Type() != plumbing.HashReference {
			return nil
		}
		if _, err := repo.Storer.EncodedObject(plumbing.AnyObject, r.Hash()); err != nil {
			return fmt.Errorf("%s: %w", r.Name(), err)
		}
		c, err := peelCommit(repo, r.Hash())
		if err != nil {
			return fmt.Errorf("%s: %w", r.Name(), err)
		}
		if _, err := c.Tree(); err != nil {
			return fmt.Errorf("%s: tree: %w", r.Name(), err)
		}
		return nil
	})
}

// state records, per ref key, what was last delivered from this cache.
type state struct {
	Refs map[string]stateEntry `json:"refs"`
}

type stateEntry struct {
	Revision string `json:"revision"`
	Commit   string `json:"commit"`
	Checkout string `json:"checkout"`
}

func (c cache) readState() state {
	s := state{Refs: map[string]stateEntry{}}
	b, err := os.ReadFile(filepath.Join(c.dir, "state.json"))
	if err == nil {
		_ = json.Unmarshal(b, &s) // an unreadable state only costs a re-check
	}
	if s.Refs == nil {
		s.Refs = map[string]stateEntry{}
	}
	return s
}

func (c cache) writeState(s state) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(c.dir, ".state.json.tmp")
	f, err := privateOpen(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return cacheError(tmp, err)
	}
	if err := os.Rename(tmp, filepath.Join(c.dir, "state.json")); err != nil {
		return fmt.Errorf("cache: %w", err)
	}
	return nil
}

// checkoutDir is where the tree of commit is published.
func (c cache) checkoutDir(commit string, submodules bool) string {
	name := commit
	if submodules {
		name += "-s"
	}
	return filepath.Join(c.dir, "checkouts", name)
}

// prune removes checkouts that no ref of st uses, keeping the keep newest
// besides. Leftover temporary directories of crashed fetches go too (the
// cache lock is held, so none is in progress).
func (c cache) prune(st state, keep int) {
	dir := filepath.Join(c.dir, "checkouts")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	inUse := map[string]bool{}
	for _, e := range st.Refs {
		inUse[filepath.Base(e.Checkout)] = true
	}
	type aged struct {
		name string
		mod  int64
	}
	var old []aged
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			_ = os.RemoveAll(filepath.Join(dir, e.Name()))
			continue
		}
		if inUse[e.Name()] {
			continue
		}
		if info, err := e.Info(); err == nil {
			old = append(old, aged{e.Name(), info.ModTime().UnixNano()})
		}
	}
	sort.Slice(old, func(i, j int) bool { return old[i].mod > old[j].mod })
	for i := keep; i < len(old); i++ {
		_ = os.RemoveAll(filepath.Join(dir, old[i].name))
	}
}
