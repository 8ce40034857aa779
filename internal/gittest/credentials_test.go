package gittest

import (
	"strings"
	"testing"
)

// TestSetBasicAuthRevokes: after SetBasicAuth the old password gets 401 and
// the new one is served.
func TestSetBasicAuthRevokes(t *testing.T) {
	base := t.TempDir()
	NewRepo(t, base, "app.git").Commit("first", nil)
	h := StartHTTP(t, base, HTTPOptions{Username: "alice", Password: "old-pw"})
	withAuth := func(pw string) string {
		return strings.Replace(h.URL("app.git"), "http://", "http://alice:"+pw+"@", 1)
	}
	if _, err := runGit(t.TempDir(), nil, nil, "ls-remote", withAuth("old-pw")); err != nil {
		t.Fatalf("before the change: %v", err)
	}
	h.SetBasicAuth("alice", "new-pw")
	if _, err := runGit(t.TempDir(), nil, nil, "ls-remote", withAuth("old-pw")); err == nil || !strings.Contains(err.Error(), "Authentication failed") {
		t.Fatalf("old password after SetBasicAuth: err = %v, want Authentication failed", err)
	}
	if _, err := runGit(t.TempDir(), nil, nil, "ls-remote", withAuth("new-pw")); err != nil {
		t.Fatalf("new password: %v", err)
	}
}
