package privdir

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestDir: the directory ends DirMode whatever the umask and whatever its
// mode before; a path that is not a directory is an error that names it.
func TestDir(t *testing.T) {
	cases := []struct {
		name    string
		umask   int
		before  os.FileMode // 0: not there
		file    bool        // a file is in the way
		wantErr string
	}{
		{name: "new", umask: 0o022},
		{name: "new under umask 277", umask: 0o277},
		{name: "existing 0755", umask: 0o022, before: 0o755},
		{name: "existing 0777", umask: 0o022, before: 0o777},
		{name: "existing 0500", umask: 0o022, before: 0o500},
		{name: "a file in the way", umask: 0o022, file: true, wantErr: "not a directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "a", "state")
			switch {
			case tc.file:
				if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(dir, nil, 0o600); err != nil {
					t.Fatal(err)
				}
			case tc.before != 0:
				if err := os.MkdirAll(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(dir, tc.before); err != nil {
					t.Fatal(err)
				}
			}
			old := syscall.Umask(tc.umask)
			err := Dir(dir)
			syscall.Umask(old)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), dir) {
					t.Fatalf("Dir = %v, want an error naming %s: %s", err, dir, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != DirMode || !fi.IsDir() {
				t.Fatalf("after Dir: %v %v, want a directory of mode %v", fi.Mode(), err, DirMode)
			}
		})
	}
}

// TestFile: an existing file ends FileMode; a missing one is an error.
func TestFile(t *testing.T) {
	cases := []struct {
		name   string
		before os.FileMode // 0: not there
	}{
		{name: "0644", before: 0o644},
		{name: "0666", before: 0o666},
		{name: "already 0600", before: 0o600},
		{name: "0400", before: 0o400},
		{name: "missing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.db")
			if tc.before != 0 {
				if err := os.WriteFile(path, []byte("x"), tc.before); err != nil {
					t.Fatal(err)
				}
				if err := os.Chmod(path, tc.before); err != nil {
					t.Fatal(err)
				}
			}
			err := File(path)
			if tc.before == 0 {
				if !errors.Is(err, os.ErrNotExist) {
					t.Fatalf("File of a missing file = %v, want not-exist", err)
				}
				return
			}
			if fi, serr := os.Stat(path); err != nil || serr != nil || fi.Mode().Perm() != FileMode {
				t.Fatalf("File = %v; mode %v, want %v", err, fi.Mode().Perm(), FileMode)
			}
		})
	}
}

// TestDirOfAnotherUser: a directory of another user's is refused and left as
// it is, even by root (which could chmod it): its owner keeps control of it.
// A new subdirectory of it (as an emptyDir volume's state/) is ours and fine.
func TestDirOfAnotherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a directory to another user (CI runs as root)")
	}
	other := filepath.Join(t.TempDir(), "other")
	if err := os.Mkdir(other, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(other, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(other, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := Dir(other); !errors.Is(err, ErrNotOwned) {
		t.Errorf("Dir(another user's directory) = %v, want ErrNotOwned", err)
	}
	if fi, err := os.Stat(other); err != nil || fi.Mode().Perm() != 0o777 {
		t.Errorf("another user's directory is now %v (%v), want it left 0777", fi.Mode().Perm(), err)
	}
	if err := Dir(filepath.Join(other, "state")); err != nil {
		t.Errorf("Dir(a new subdirectory) = %v, want it created", err)
	}
}
