package e2e

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jobsync/jobsync/agent"
	"github.com/jobsync/jobsync/internal/gittest"
)

// hostileKustomization lists the two objects of small as kustomize resources.
const hostileKustomization = "resources:\n  - settings.yaml\n  - nightly.yaml\n"

// TestFaultHostileCommits: commits made to hurt the agent (a 690-byte YAML
// alias bomb that kustomize would expand to gigabytes, an SCP-style remote
// base that would make kustomize clone from the network) are each rejected
// as a whole with a finding that says why; nothing of them reaches the
// cluster, the agent's memory stays bounded, and the good commit after them
// is applied. docs/security.md, "Rendering".
func TestFaultHostileCommits(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	bomb, err := os.ReadFile("testdata/hostile/bomb.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ns := newNamespace(t, ctx, "fault-hostile")
	base, repo := newFaultRepo(t)
	first := repo.Commit("first", mergeFiles(small("v1"), map[string]string{"kustomization.yaml": hostileKustomization}))
	srv := gittest.StartHTTP(t, base, gittest.HTTPOptions{})
	a := startAgent(t, agentConfig{repo: srv.URL("app.git"), ns: ns})
	a.waitApplied(time.Minute, revisionOf(first))

	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"alias bomb in a resource", map[string]string{
			"kustomization.yaml": hostileKustomization + "  - bomb.yaml\n", "bomb.yaml": string(bomb),
		}, "aliases expand too far"},
		{"scp-style remote base", map[string]string{
			"kustomization.yaml": hostileKustomization + "  - github.com:example/batch//base\n", "bomb.yaml": "",
		}, "remote bases are refused"},
	} {
		commit := repo.Commit(tc.name, tc.files)
		st := a.waitAttempt(time.Minute, tc.name+" rejected", func(at *agent.AttemptReport) bool {
			return at.Revision == revisionOf(commit) && at.Error != ""
		})
		if text := attemptText(st.LastAttempt); !strings.Contains(text, tc.want) {
			t.Errorf("%s: the attempt does not say %q:\n%s", tc.name, tc.want, text)
		}
		if got := configMapValue(t, ctx, ns, "settings"); got != "v1" {
			t.Errorf("%s: ConfigMap settings = %q, want v1 (nothing of the commit applied)", tc.name, got)
		}
	}
	// Expanded, the bomb is 10^10 strings: the agent would need gigabytes.
	if hwm, _, err := a.memory(); err != nil || hwm > 1<<30 {
		t.Errorf("agent peak memory %d MB (%v), want under 1 GiB", hwm>>20, err)
	}

	fix := repo.Commit("fix", mergeFiles(small("v2"), map[string]string{"kustomization.yaml": hostileKustomization}))
	a.waitApplied(time.Minute, revisionOf(fix))
	if got := configMapValue(t, ctx, ns, "settings"); got != "v2" {
		t.Errorf("ConfigMap settings = %q after the fix, want v2", got)
	}
}

// attemptText is an attempt's error and every finding's message.
func attemptText(at *agent.AttemptReport) string {
	if at == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString(at.Error)
	for _, f := range at.Findings {
		for _, e := range f.Errors {
			b.WriteString("\n" + f.File + ": " + e.Message)
		}
	}
	return b.String()
}

// TestFaultListenerExposesNoControl: a network peer reaching the agent's
// --listen gets health, metrics and status but no command: the control API
// (reconcile, trigger, whole objects) answers 404 there in every spelling,
// while the same request on the agent's socket works. docs/security.md,
// "HTTP endpoints".
func TestFaultListenerExposesNoControl(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	ns := newNamespace(t, ctx, "fault-listen")
	base, repo := newFaultRepo(t)
	first := repo.Commit("first", small("v1"))
	srv := gittest.StartHTTP(t, base, gittest.HTTPOptions{})
	a := startAgent(t, agentConfig{repo: srv.URL("app.git"), ns: ns, webhookSecret: []byte("listen-secret"), interval: time.Hour})
	a.waitApplied(time.Minute, revisionOf(first))

	before, err := a.reconciles()
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	for _, path := range []string{"/v1/reconcile", "//v1/reconcile", "/x/../v1/reconcile", "/%761/reconcile"} {
		resp, err := hc.Post("http://"+a.listen+path, "application/json", nil)
		if err != nil {
			t.Fatalf("POST %s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusAccepted || resp.StatusCode < 300 {
			t.Errorf("POST %s over TCP: %s, want it refused", path, resp.Status)
		}
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics", "/status"} {
		resp, err := hc.Get("http://" + a.listen + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s over TCP: %s, want 200", path, resp.Status)
		}
	}
	after, err := a.reconciles()
	if err != nil {
		t.Fatal(err)
	}
	if total(after) != total(before) {
		t.Errorf("reconciles went from %v to %v: a TCP request reconciled", before, after)
	}
	// The socket still takes the command.
	a.reconcileNow()
	pollUntil(t, 30*time.Second, "the socket's reconcile", func() (bool, string) {
		n, err := a.reconciles()
		if err != nil {
			return false, err.Error()
		}
		return total(n) > total(before), "no reconcile yet"
	})
}

func total(m map[string]float64) float64 {
	var n float64
	for _, v := range m {
		n += v
	}
	return n
}
