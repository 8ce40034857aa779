package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAgentLeaseTimingsChecked: lease timings client-go would refuse are a
// usage error before the agent starts, from flags and from the environment.
func TestAgentLeaseTimingsChecked(t *testing.T) {
	dir := t.TempDir()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	// Never contacted: the timings are refused first.
	cfg := "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n" +
		"users: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n"
	if err := os.WriteFile(kubeconfig, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"agent", "--repo", dir, "--target", "cluster", "--kubeconfig", kubeconfig, "--state-dir", filepath.Join(dir, "state"), "--leader-elect"}
	tests := []struct {
		name string
		args []string
		env  map[string]string
	}{
		{name: "renew deadline not under lease", args: []string{"--leader-elect-lease-duration", "5s", "--leader-elect-renew-deadline", "5s"}},
		{name: "retry period too close to renew deadline", args: []string{"--leader-elect-renew-deadline", "2s", "--leader-elect-retry-period", "2s"}},
		{name: "zero retry period from env", env: map[string]string{"JOBSYNC_LEADER_ELECT_RETRY_PERIOD": "0s"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			env := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			code := runEnv(append(append([]string{}, base...), tc.args...), strings.NewReader(""), &out, &errb, env)
			if code != exitUsage || !strings.Contains(errb.String(), "need lease duration > renew deadline > 1.2 × retry period > 0") {
				t.Errorf("exit %d, stderr %q; want %d and the timing rule", code, errb.String(), exitUsage)
			}
		})
	}
}
