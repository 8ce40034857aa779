package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/jobsync/jobsync/reconcile"
)

// recordingTarget is a pure in-memory Target: these tests are about the
// agent's serving side, not about applying.
type recordingTarget struct {
	mu      sync.Mutex
	applied []reconcile.ChangeSet
	// onApply, when set, is sent to after each Apply.
	onApply chan struct{}
}

func (t *recordingTarget) Name() string { return "memory" }
func (t *recordingTarget) Inventory(context.Context) (reconcile.Inventory, error) {
	return reconcile.Inventory{}, nil
}
func (t *recordingTarget) Apply(_ context.Context, cs reconcile.ChangeSet) (reconcile.ApplyResult, error) {
	t.mu.Lock()
	t.applied = append(t.applied, cs)
	t.mu.Unlock()
	if t.onApply != nil {
		t.onApply <- struct{}{}
	}
	return reconcile.ApplyResult{}, nil
}

type fakeRuntime struct {
	mu        sync.Mutex
	suspended map[string]bool
}

func (f *fakeRuntime) CronJobs() []batchv1.CronJob {
	return []batchv1.CronJob{{ObjectMeta: metav1.ObjectMeta{Name: "backup", Namespace: "ops"}}}
}
func (f *fakeRuntime) Jobs() []batchv1.Job { return nil }
func (f *fakeRuntime) Pods() []corev1.Pod  { return nil }
func (f *fakeRuntime) Trigger(ns, name string) (*batchv1.Job, error) {
	if name != "backup" {
		return nil, fmt.Errorf("CronJob/%s/%s: %w", ns, name, ErrNotFound)
	}
	return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "backup-manual-abc", Namespace: ns}}, nil
}
func (f *fakeRuntime) Suspend(ns, name string, s bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.suspended[ns+"/"+name] = s
	return nil
}
func (f *fakeRuntime) LogPaths(ns, pod string) (map[string]string, error) {
	return map[string]string{"main": "/logs/" + ns + "/" + pod + "/main.log"}, nil
}

func emptySource(dir string, fail *bool) reconcile.Source {
	return reconcile.SourceFunc(func(context.Context) (reconcile.Snapshot, error) {
		if *fail {
			return reconcile.Snapshot{}, errors.New("git server down")
		}
		return reconcile.Snapshot{Revision: "main@sha1:abc", Dir: dir}, nil
	})
}

func newTestAgent(t *testing.T, fail *bool, opts Options) (*Agent, *recordingTarget) {
	t.Helper()
	tgt := &recordingTarget{}
	lo := reconcile.DefaultLoopOptions()
	lo.Plan.AllowEmpty = true
	loop := reconcile.NewLoop(emptySource(t.TempDir(), fail), tgt, lo)
	return New(loop, "memory", opts), tgt
}

func TestReadyAfterFirstApply(t *testing.T) {
	fail := true
	a, _ := newTestAgent(t, &fail, DefaultOptions())
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()

	a.observe(a.loop.Once(context.Background()))
	if code := get(t, srv.URL+"/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("readyz after a failed fetch = %d, want 503", code)
	}
	if code := get(t, srv.URL+"/healthz"); code != http.StatusOK {
		t.Fatalf("healthz = %d", code)
	}
	fail = false
	at := a.loop.Once(context.Background())
	if at.Err != nil {
		t.Fatalf("second attempt: %v", at.Err)
	}
	a.observe(at)
	if code := get(t, srv.URL+"/readyz"); code != http.StatusOK {
		t.Fatalf("readyz after apply = %d, want 200", code)
	}
	body := getBody(t, srv.URL+"/metrics")
	for _, want := range []string{`jobsync_reconcile_total{result="applied"} 1`, `jobsync_reconcile_total{result="failed"} 1`,
		`jobsync_applied_revision_info{revision="main@sha1:abc",target="memory"} 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	st := getBody(t, srv.URL+"/status")
	if !strings.Contains(st, `"revision":"main@sha1:abc"`) || !strings.Contains(st, `"failures":1`) {
		t.Errorf("status:\n%s", st)
	}
	if st := getBody(t, srv.URL+"/status?pretty"); !strings.Contains(st, "\n  \"failures\": 1,\n") {
		t.Errorf("status?pretty is not indented:\n%s", st)
	}
}

func TestClientOverSocket(t *testing.T) {
	fail := false
	rt := &fakeRuntime{suspended: map[string]bool{}}
	sock := filepath.Join(shortTempDir(t), SocketName)
	opts := DefaultOptions()
	opts.Socket, opts.Runtime = sock, rt
	a, tgt := newTestAgent(t, &fail, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	c := NewClient(sock)
	waitFor(t, func() bool { _, err := c.Status(ctx); return err == nil })

	cjs, err := c.CronJobs(ctx)
	if err != nil || len(cjs) != 1 || cjs[0].Name != "backup" {
		t.Fatalf("CronJobs = %v, %v", cjs, err)
	}
	job, err := c.Trigger(ctx, "ops", "backup")
	if err != nil || job.Name != "backup-manual-abc" {
		t.Fatalf("Trigger = %v, %v", job, err)
	}
	if _, err := c.Trigger(ctx, "ops", "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Trigger unknown: err = %v, want ErrNotFound", err)
	}
	if err := c.Suspend(ctx, "ops", "backup", true); err != nil || !rt.suspended["ops/backup"] {
		t.Fatalf("Suspend: %v, state %v", err, rt.suspended)
	}
	paths, err := c.LogPaths(ctx, "ops", "p1")
	if err != nil || paths["main"] != "/logs/ops/p1/main.log" {
		t.Fatalf("LogPaths = %v, %v", paths, err)
	}
	if err := c.Reconcile(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { tgt.mu.Lock(); defer tgt.mu.Unlock(); return len(tgt.applied) >= 2 })

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left behind: %v", err)
	}
	if _, err := c.Status(context.Background()); !errors.Is(err, ErrNotRunning) {
		t.Errorf("after stop: err = %v, want ErrNotRunning", err)
	}
}

func TestSecondAgentOnSameSocketRefused(t *testing.T) {
	fail := false
	sock := filepath.Join(shortTempDir(t), SocketName)
	opts := DefaultOptions()
	opts.Socket = sock
	a, _ := newTestAgent(t, &fail, opts)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go a.Run(ctx)
	waitFor(t, func() bool { _, err := NewClient(sock).Status(ctx); return err == nil })
	b, _ := newTestAgent(t, &fail, opts)
	err := b.Run(ctx)
	if err == nil || !strings.Contains(err.Error(), "another agent is running") {
		t.Fatalf("second Run: err = %v", err)
	}
}

func TestWebhookSignatures(t *testing.T) {
	secret := []byte("s3cret")
	body := []byte(`{"ref":"refs/heads/main"}`)
	cases := []struct {
		name   string
		kind   string
		header map[string]string
		body   []byte
		want   int
		fires  bool
	}{
		{"github signed", "github", map[string]string{HeaderGitHubSignature: Sign(secret, body), HeaderGitHubEvent: "push"}, body, 202, true},
		{"github ping", "github", map[string]string{HeaderGitHubSignature: Sign(secret, body), HeaderGitHubEvent: "ping"}, body, 200, false},
		{"github unsigned", "github", nil, body, 401, false},
		{"github wrong secret", "github", map[string]string{HeaderGitHubSignature: Sign([]byte("other"), body)}, body, 401, false},
		{"github tampered body", "github", map[string]string{HeaderGitHubSignature: Sign(secret, body)}, []byte(`{}`), 401, false},
		{"github not hex", "github", map[string]string{HeaderGitHubSignature: "sha256=zz"}, body, 401, false},
		{"gitlab token", "gitlab", map[string]string{HeaderGitLabToken: "s3cret"}, body, 202, true},
		{"gitlab wrong token", "gitlab", map[string]string{HeaderGitLabToken: "s3cre"}, body, 401, false},
		{"generic hmac", "generic", map[string]string{HeaderGenericSignature: Sign(secret, body)}, body, 202, true},
		{"unknown kind", "bitbucket", nil, body, 404, false},
		{"too large", "generic", map[string]string{HeaderGenericSignature: Sign(secret, bytes.Repeat([]byte("x"), 2048))}, bytes.Repeat([]byte("x"), 2048), 413, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fired := 0
			h := newWebhook(WebhookOptions{Secret: secret, MaxBodyBytes: 1024}, func() { fired++ })
			mux := http.NewServeMux()
			mux.Handle("POST /hooks/{kind}", h)
			req := httptest.NewRequest(http.MethodPost, "/hooks/"+tc.kind, bytes.NewReader(tc.body))
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			mux.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("status = %d, want %d (%s)", rec.Code, tc.want, rec.Body)
			}
			if (fired > 0) != tc.fires {
				t.Errorf("fired = %d, want fires=%v", fired, tc.fires)
			}
			if strings.Contains(rec.Body.String(), string(secret)) {
				t.Errorf("response leaks the secret: %q", rec.Body)
			}
		})
	}
}

func TestWebhookWithoutSecretRefuses(t *testing.T) {
	h := newWebhook(WebhookOptions{}, func() { t.Fatal("fired without a secret") })
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/hooks/github", strings.NewReader("{}")))
	if rec.Code != http.StatusForbidden {
		t.Fatalf("status = %d, want 403", rec.Code)
	}
}

func get(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// waitFor polls cond: the agent runs real goroutines and a real socket here.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// shortTempDir keeps unix socket paths under the 108-byte limit.
func shortTempDir(t *testing.T) string {
	d, err := os.MkdirTemp("", "js")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func TestNotifications(t *testing.T) {
	var got []Notification
	var sigs []string
	secret := []byte("k")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if Sign(secret, body) != r.Header.Get(HeaderGenericSignature) {
			t.Errorf("bad signature on %s", body)
		}
		var n Notification
		if err := json.Unmarshal(body, &n); err != nil {
			t.Error(err)
		}
		got = append(got, n)
		sigs = append(sigs, r.Header.Get(HeaderGenericSignature))
	}))
	defer srv.Close()
	fail := true
	opts := DefaultOptions()
	opts.Notifiers = []Notifier{&WebhookNotifier{URL: srv.URL, Secret: secret}}
	a, _ := newTestAgent(t, &fail, opts)
	ctx := context.Background()
	a.observe(a.loop.Once(ctx)) // failed: sent
	a.observe(a.loop.Once(ctx)) // same failure: not sent again
	fail = false
	a.observe(a.loop.Once(ctx)) // applied: sent
	a.observe(a.loop.Once(ctx)) // same revision again: not sent
	var events []string
	for _, n := range got {
		events = append(events, n.Event)
	}
	if strings.Join(events, ",") != "failed,applied" {
		t.Fatalf("events = %v, want failed,applied", events)
	}
	if got[0].Stage != "fetch" || !strings.Contains(got[0].Error, "git server down") || got[1].Revision != "main@sha1:abc" {
		t.Fatalf("notifications: %+v", got)
	}
}

func TestPagesMountedAtRoot(t *testing.T) {
	fail := false
	opts := DefaultOptions()
	opts.Pages = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "page "+r.URL.Path) })
	a, _ := newTestAgent(t, &fail, opts)
	h := a.TCPHandler()
	for _, tc := range []struct {
		method, path, body string
		code               int
	}{
		{http.MethodGet, "/", "page /", http.StatusOK},
		{http.MethodGet, "/cronjobs/ns/x", "page /cronjobs/ns/x", http.StatusOK},
		{http.MethodGet, "/healthz", "ok\n", http.StatusOK},
		{http.MethodPost, "/", "", http.StatusMethodNotAllowed},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
		if rec.Code != tc.code || (tc.body != "" && rec.Body.String() != tc.body) {
			t.Errorf("%s %s: %d %q, want %d %q", tc.method, tc.path, rec.Code, rec.Body.String(), tc.code, tc.body)
		}
	}
}
