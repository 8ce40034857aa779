package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const testKubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: https://127.0.0.1:1}
users:
- name: u
  user: {token: t}
contexts:
- name: with-ns
  context: {cluster: c, user: u, namespace: team-a}
- name: without-ns
  context: {cluster: c, user: u}
current-context: with-ns
`

// TestAgentClusterNamespace: the agent's namespace defaults as kubectl's
// does: the kubeconfig context's, else "default"; --namespace wins.
func TestAgentClusterNamespace(t *testing.T) {
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(kc, []byte(testKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	noEnv := func(string) (string, bool) { return "", false }
	tests := []struct {
		name, context, flag, want string
	}{
		{"context namespace", "", "", "team-a"},
		{"context without one", "without-ns", "", "default"},
		{"--namespace wins", "", "batch", "batch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := kubeFlags{kubeconfig: kc, context: tc.context}
			cc, err := k.restConfig(noEnv)
			if err != nil || cc == nil {
				t.Fatalf("restConfig: %v %v", cc, err)
			}
			if !strings.Contains(cc.from, kc) {
				t.Errorf("from %q, want the kubeconfig named", cc.from)
			}
			if got := orDefault(tc.flag, cc.namespace); got != tc.want {
				t.Errorf("namespace %q, want %q", got, tc.want)
			}
		})
	}
	if cc, err := (&kubeFlags{kubeconfig: filepath.Join(t.TempDir(), "none")}).restConfig(noEnv); err == nil || cc != nil {
		t.Errorf("missing --kubeconfig: %v, %v; want an error", cc, err)
	}
}
