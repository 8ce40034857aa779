package privdir

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// ErrNotOwned: the path belongs to another user. Even root does not take it
// over: its owner could still swap the files in it or plant symlinks that
// the agent would then write through.
var ErrNotOwned = errors.New("belongs to another user")

// Modes of a private directory and of the files in it.
const (
	DirMode  os.FileMode = 0o700
	FileMode os.FileMode = 0o600
)

// Dir creates dir and its missing parents (as os.MkdirAll) and sets dir's
// mode to DirMode: the umask may have taken bits from a new one, and an
// existing one may be wider.
func Dir(dir string) error {
	if err := os.MkdirAll(dir, DirMode); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	return set(dir, DirMode)
}

// File sets an existing file's mode to FileMode.
func File(path string) error { return set(path, FileMode) }

// set chmods path to mode unless it has it already; a path of another
// user's is refused (ErrNotOwned), whatever its mode and whoever we are.
func set(path string, mode os.FileMode) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%s: %w (uid %d, we are %d); run as that user or use a directory of your own (a new subdirectory is created for us)",
			path, ErrNotOwned, st.Uid, os.Geteuid())
	}
	if fi.Mode().Perm() == mode {
		return nil
	}
	if err := os.Chmod(path, mode); err != nil {
		if errors.Is(err, os.ErrPermission) {
			return fmt.Errorf("%s is mode %v and cannot be made %v: %w: it belongs to another user; run as that user or use a directory of your own", path, fi.Mode().Perm(), mode, err)
		}
		return fmt.Errorf("%s: make it %v: %w", path, mode, err)
	}
	return nil
}
