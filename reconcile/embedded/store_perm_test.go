package embedded

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestOpenStoreIsPrivate: opened read-write, the state directory ends 0700
// and the state file 0600, whether they are new (under a umask that takes
// bits the owner needs) or were left wider by an earlier version or a hand;
// opened read-only (the CLI reading a stopped agent's state), nothing is
// changed.
func TestOpenStoreIsPrivate(t *testing.T) {
	cases := []struct {
		name            string
		umask           int
		dirMode, dbMode os.FileMode // 0: not there before
		readOnly        bool
		wantDir, wantDB os.FileMode
	}{
		{name: "new under umask 022", umask: 0o022, wantDir: 0o700, wantDB: 0o600},
		{name: "new under umask 277", umask: 0o277, wantDir: 0o700, wantDB: 0o600},
		{name: "existing world-readable", umask: 0o022, dirMode: 0o755, dbMode: 0o644, wantDir: 0o700, wantDB: 0o600},
		{name: "existing world-writable", umask: 0o022, dirMode: 0o777, dbMode: 0o666, wantDir: 0o700, wantDB: 0o600},
		{name: "read-only leaves modes", umask: 0o022, dirMode: 0o755, dbMode: 0o644, readOnly: true, wantDir: 0o755, wantDB: 0o644},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "state")
			db := filepath.Join(dir, StoreFile)
			if tc.dbMode != 0 {
				s, err := OpenStore(dir, DefaultStoreOptions())
				if err != nil {
					t.Fatal(err)
				}
				s.Close()
				chmod(t, dir, tc.dirMode)
				chmod(t, db, tc.dbMode)
			}
			old := syscall.Umask(tc.umask)
			opts := DefaultStoreOptions()
			opts.ReadOnly = tc.readOnly
			s, err := OpenStore(dir, opts)
			syscall.Umask(old)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for path, want := range map[string]os.FileMode{dir: tc.wantDir, db: tc.wantDB} {
				if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
					t.Errorf("%s: mode %v (%v), want %v", filepath.Base(path), modeOf(fi), err, want)
				}
			}
		})
	}
}

func chmod(t *testing.T, path string, m os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, m); err != nil {
		t.Fatal(err)
	}
}

func modeOf(fi os.FileInfo) os.FileMode {
	if fi == nil {
		return 0
	}
	return fi.Mode().Perm()
}
