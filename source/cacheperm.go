package source

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// Modes of what the cache holds, whatever the umask: a cache keeps the
// manifests of private repositories, so only this process's user may read
// it. The directories of the cache below CacheDir are made private (and
// tightened when they exist); go-git's own files inside are then out of
// reach of other users whatever mode it gives them.
const (
	privateDir  os.FileMode = 0o700
	privateFile os.FileMode = 0o600
	privateExec os.FileMode = 0o700
)

// prepare creates (or tightens) CacheDir and this remote's directories:
// CacheDir itself is created private but left as it is when it exists (it
// may be a directory chosen by the operator); git/, git/<hash>/ and
// checkouts/ belong to the cache, must be owned by this process's user and
// are made 0700.
func (c cache) prepare() error {
	if err := os.MkdirAll(c.root, privateDir); err != nil {
		return cacheError(c.root, err)
	}
	for _, d := range []string{filepath.Dir(c.dir), c.dir, filepath.Join(c.dir, "checkouts")} {
		if err := privateDirectory(d); err != nil {
			return err
		}
	}
	return nil
}

// privateDirectory makes dir a directory of mode 0700 owned by this
// process's user: created when missing, tightened when more open, refused
// when it is a symlink or another user's.
func privateDirectory(dir string) error {
	err := os.Mkdir(dir, privateDir)
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return cacheError(dir, err)
	}
	st, err := os.Lstat(dir)
	if err != nil {
		return cacheError(dir, err)
	}
	if !st.IsDir() {
		what := "file"
		if st.Mode()&fs.ModeSymlink != 0 {
			what = "symlink"
		}
		return fmt.Errorf("%w: %s is a %s, not a directory (remove it or pass another --cache-dir)", ErrCachePermission, dir, what)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Getuid() {
		return fmt.Errorf("%w: %s is owned by uid %d, not by this process's uid %d (another user could change the cache: remove it, chown it, or pass another --cache-dir)",
			ErrCachePermission, dir, sys.Uid, os.Getuid())
	}
	if st.Mode().Perm() != privateDir {
		if err := os.Chmod(dir, privateDir); err != nil {
			return cacheError(dir, err)
		}
	}
	return nil
}

// privateOpen opens (creating it if needed) the cache file name with mode
// 0600 whatever the umask or its mode before.
func privateOpen(name string, flag int) (*os.File, error) {
	f, err := os.OpenFile(name, flag, privateFile)
	if err != nil {
		return nil, cacheError(name, err)
	}
	if err := f.Chmod(privateFile); err != nil {
		f.Close()
		return nil, cacheError(name, err)
	}
	return f, nil
}

// cacheError says plainly when a cache path cannot be used for lack of
// permission.
func cacheError(path string, err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%w: %s: permission denied for uid %d (the cache must be writable by this process's user: fix the owner or mode, or pass another --cache-dir): %w",
			ErrCachePermission, path, os.Getuid(), err)
	}
	return fmt.Errorf("cache: %w", err)
}
