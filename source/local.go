package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	git "github.com/go-git/go-git/v5"
)

// LocalOptions configures a local directory source.
type LocalOptions struct {
	// Dir is the directory to hand out (a Git working tree, a directory
	// inside one, or a plain directory).
	Dir string
}

// DefaultLocalOptions returns options for the current directory.
func DefaultLocalOptions() LocalOptions { return LocalOptions{Dir: "."} }

// Local is a Source for a directory on this machine. In a Git working tree
// the revision is "<branch>@sha1:<HEAD>" ("HEAD@sha1:…" when detached), with
// "+dirty:sha256:<content hash of Dir>" appended when files below Dir differ
// from HEAD, so every edit gives a new revision. A plain directory's revision
// is "sha256:<content hash>". The directory itself is handed out.
type Local struct {
	dir string

	mu   sync.Mutex
	last string
}

// NewLocal checks that opts.Dir is a directory.
func NewLocal(opts LocalOptions) (*Local, error) {
	abs, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("%w: dir %q: %w", ErrInvalidOptions, opts.Dir, err)
	}
	st, err := os.Stat(abs)
	if err != nil || !st.IsDir() {
		return nil, fmt.Errorf("%w: dir %q is not a directory", ErrInvalidOptions, opts.Dir)
	}
	return &Local{dir: abs}, nil
}

// String is the directory.
func (l *Local) String() string { return l.dir }

// Fetch computes the directory's revision. See Source.
func (l *Local) Fetch(ctx context.Context) (Artifact, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	art := Artifact{Root: l.dir, Dir: l.dir, History: HistoryUnknown}
	repo, err := git.PlainOpenWithOptions(l.dir, &git.PlainOpenOptions{DetectDotGit: true})
	switch {
	case errors.Is(err, git.ErrRepositoryNotExists):
		sum, err := contentHash(ctx, l.dir)
		if err != nil {
			return Artifact{}, err
		}
		art.Revision = "sha256:" + sum
	case err != nil:
		return Artifact{}, fmt.Errorf("%s: git: %w", l.dir, err)
	default:
		if err := l.fromGit(ctx, repo, &art); err != nil {
			return Artifact{}, err
		}
	}
	if err := checkLocalLinks(ctx, l.dir, l.bound(repo)); err != nil {
		return Artifact{}, err
	}
	art.Previous = l.last
	art.Changed = art.Revision != l.last
	if l.last == "" {
		art.History = HistoryInitial
	} else if !art.Changed {
		art.History = HistoryUnchanged
	}
	l.last = art.Revision
	return art, nil
}

// bound is what no symlink may resolve outside of: the working tree's root
// (repo nil: the directory itself).
func (l *Local) bound(repo *git.Repository) string {
	if repo != nil {
		if wt, err := repo.Worktree(); err == nil {
			return wt.Filesystem.Root()
		}
	}
	return l.dir
}

func (l *Local) fromGit(ctx context.Context, repo *git.Repository, art *Artifact) error {
	head, err := repo.Head()
	if err != nil {
		return fmt.Errorf("%s: git HEAD: %w (commit something first)", l.dir, err)
	}
	ref := "HEAD"
	if head.Name().IsBranch() {
		ref = head.Name().Short()
	}
	art.Ref, art.Commit = ref, head.Hash().String()
	art.Revision = ref + "@sha1:" + art.Commit
	wt, err := repo.Worktree()
	if err != nil {
		return fmt.Errorf("%s: git: %w", l.dir, err)
	}
	status, err := wt.StatusWithOptions(git.StatusOptions{Strategy: git.Preload})
	if err != nil {
		return fmt.Errorf("%s: git status: %w", l.dir, err)
	}
	rel, err := filepath.Rel(wt.Filesystem.Root(), l.dir)
	if err != nil {
		return fmt.Errorf("%s: %w", l.dir, err)
	}
	prefix := filepath.ToSlash(rel) + "/"
	for p, s := range status {
		if s.Worktree == git.Unmodified && s.Staging == git.Unmodified {
			continue
		}
		if rel == "." || strings.HasPrefix(p, prefix) {
			art.Dirty = true
			break
		}
	}
	if art.Dirty {
		sum, err := contentHash(ctx, l.dir)
		if err != nil {
			return err
		}
		art.Revision += "+dirty:sha256:" + sum
	}
	return nil
}

// contentHash hashes every path, type, executable bit, symlink target and
// file content below dir (sorted; .git directories skipped).
func contentHash(ctx context.Context, dir string) (string, error) {
	h := sha256.New()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			fmt.Fprintf(h, "d %s\x00", rel)
		case d.Type()&fs.ModeSymlink != 0:
			t, err := os.Readlink(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "l %s\x00%s\x00", rel, t)
		case d.Type().IsRegular():
			fmt.Fprintf(h, "f %s\x00%o\x00%d\x00", rel, info.Mode().Perm()&0o100, info.Size())
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(h, f)
			f.Close()
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("%s: hash: %w", dir, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
