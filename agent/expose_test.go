package agent

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	batchv1 "k8s.io/api/batch/v1"

	"github.com/jobsync/jobsync/internal/nettest"
)

// countingRuntime records every command the API passes to the runtime.
type countingRuntime struct {
	fakeRuntime
	mu       sync.Mutex
	commands []string
}

func (c *countingRuntime) Trigger(ns, name string) (*batchv1.Job, error) {
	c.record("trigger " + ns + "/" + name)
	return c.fakeRuntime.Trigger(ns, name)
}

func (c *countingRuntime) Suspend(ns, name string, s bool) error {
	c.record("suspend " + ns + "/" + name)
	return c.fakeRuntime.Suspend(ns, name, s)
}

func (c *countingRuntime) record(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.commands = append(c.commands, s)
}

func (c *countingRuntime) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.commands)
}

// runningAgent is an agent serving a real unix socket and a real TCP port.
type runningAgent struct {
	a      *Agent
	rt     *countingRuntime
	tgt    *recordingTarget
	tcp    string // base URL of --listen
	socket *Client
	hc     *http.Client // plain client, redirects not followed
}

// startAgent runs an agent with opts (Socket, Listen and Runtime are set
// here) until the test ends.
func startAgent(t *testing.T, opts Options) *runningAgent {
	t.Helper()
	fail := false
	r := &runningAgent{rt: &countingRuntime{fakeRuntime: fakeRuntime{suspended: map[string]bool{}}}}
	sock := filepath.Join(shortTempDir(t), SocketName)
	opts.Socket, opts.Listen, opts.Runtime = sock, nettest.FreeLoopbackAddr(t), r.rt
	r.a, r.tgt = newTestAgent(t, &fail, opts)
	r.tcp = "http://" + opts.Listen
	r.socket = NewClient(sock)
	r.hc = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	waitFor(t, func() bool {
		resp, err := r.hc.Get(r.tcp + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		_, serr := r.socket.Status(ctx)
		return err == nil && serr == nil
	})
	return r
}

func (r *runningAgent) do(t *testing.T, method, path string, hdr map[string]string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, r.tcp+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := r.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// controlRequests are the socket API's routes, and spellings of them that a
// path-cleaning mux could turn into them.
var controlRequests = []struct{ method, path string }{
	{http.MethodPost, "/v1/reconcile"},
	{http.MethodPost, "/v1/cronjobs/ops/backup/trigger"},
	{http.MethodPost, "/v1/cronjobs/ops/backup/suspend"},
	{http.MethodPost, "/v1/cronjobs/ops/backup/resume"},
	{http.MethodGet, "/v1/cronjobs"},
	{http.MethodGet, "/v1/jobs"},
	{http.MethodGet, "/v1/pods"},
	{http.MethodGet, "/v1/logs/ops/p1"},
	{http.MethodPost, "//v1/reconcile"},
	{http.MethodPost, "/x/../v1/reconcile"},
	{http.MethodPost, "/V1/reconcile"},
	{http.MethodPost, "/%761/reconcile"},
	{http.MethodGet, "/v1"},
	{http.MethodPost, "/v1/cronjobs/ops/backup/trigger/"},
	{http.MethodGet, "/v1/cronjobs/"},
}

// TestTCPServesNoControlAPI: over --listen only health, metrics, status
// and signed webhooks answer; every control route is refused and reaches
// neither the runtime nor the loop, while the socket still serves them all.
func TestTCPServesNoControlAPI(t *testing.T) {
	secret := []byte("hook-secret")
	wo := DefaultWebhookOptions()
	wo.Secret = secret
	opts := DefaultOptions()
	opts.Webhook = &wo
	r := startAgent(t, opts)
	ctx := context.Background()
	waitFor(t, func() bool { return r.a.Ready() })
	applied := r.applied()

	for _, cr := range controlRequests {
		code, body := r.do(t, cr.method, cr.path, nil, nil)
		if code < 300 || code >= 400 && code != http.StatusNotFound && code != http.StatusMethodNotAllowed {
			t.Errorf("TCP %s %s = %d %q, want 404 or 405 (or a redirect)", cr.method, cr.path, code, body)
		}
		if strings.Contains(body, "backup") || strings.Contains(body, "/logs/") {
			t.Errorf("TCP %s %s leaks runtime objects: %q", cr.method, cr.path, body)
		}
	}
	if n := r.rt.count(); n != 0 {
		t.Errorf("the runtime received %d commands over TCP: %v", n, r.rt.commands)
	}
	if got := r.applied(); got != applied {
		t.Errorf("reconciles went from %d to %d after TCP control requests", applied, got)
	}
	for _, p := range []string{"/healthz", "/readyz", "/metrics", "/status"} {
		if code, body := r.do(t, http.MethodGet, p, nil, nil); code != http.StatusOK {
			t.Errorf("TCP GET %s = %d %q, want 200", p, code, body)
		}
	}
	body := []byte(`{"ref":"refs/heads/main"}`)
	if code, _ := r.do(t, http.MethodPost, "/hooks/generic", map[string]string{HeaderGenericSignature: Sign(secret, body)}, body); code != http.StatusAccepted {
		t.Errorf("TCP signed webhook = %d, want 202", code)
	}
	// The socket keeps the whole API.
	if _, err := r.socket.Trigger(ctx, "ops", "backup"); err != nil {
		t.Errorf("socket trigger: %v", err)
	}
	if err := r.socket.Suspend(ctx, "ops", "backup", true); err != nil {
		t.Errorf("socket suspend: %v", err)
	}
	if err := r.socket.Reconcile(ctx); err != nil {
		t.Errorf("socket reconcile: %v", err)
	}
}

func (r *runningAgent) applied() int {
	r.tgt.mu.Lock()
	defer r.tgt.mu.Unlock()
	return len(r.tgt.applied)
}

// TestTCPPagesAreReadOnly: with a web view mounted at "/", GET pages are
// served, but no control route is reached through it: the control paths
// still answer 404 and the view never sees a request that is not a GET or
// HEAD, nor one under /v1/.
func TestTCPPagesAreReadOnly(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	opts := DefaultOptions()
	opts.Pages = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path)
		mu.Unlock()
		io.WriteString(w, "<h1>jobsync</h1>")
	})
	r := startAgent(t, opts)
	if code, body := r.do(t, http.MethodGet, "/", nil, nil); code != http.StatusOK || body != "<h1>jobsync</h1>" {
		t.Errorf("GET / = %d %q, want the page", code, body)
	}
	if code, _ := r.do(t, http.MethodGet, "/cronjobs/ops/backup", nil, nil); code != http.StatusOK {
		t.Errorf("GET /cronjobs/ops/backup = %d, want the page", code)
	}
	for _, cr := range append(controlRequests, struct{ method, path string }{http.MethodPost, "/"}, struct{ method, path string }{http.MethodDelete, "/cronjobs/ops/backup"}) {
		code, body := r.do(t, cr.method, cr.path, nil, nil)
		if code >= 200 && code < 300 && cr.method != http.MethodGet {
			t.Errorf("TCP %s %s = %d %q with pages mounted", cr.method, cr.path, code, body)
		}
	}
	if n := r.rt.count(); n != 0 {
		t.Errorf("the runtime received commands over TCP: %v", r.rt.commands)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, s := range seen {
		method, path, _ := strings.Cut(s, " ")
		if method != http.MethodGet && method != http.MethodHead || strings.HasPrefix(path, "/v1/") {
			t.Errorf("the pages handler was given %q", s)
		}
	}
}

// TestTCPControlWithToken: with a ControlToken the control API is served
// on TCP too, to requests that carry it, and refused to the others.
func TestTCPControlWithToken(t *testing.T) {
	opts := DefaultOptions()
	opts.ControlToken = []byte("c0ntrol-t0ken")
	r := startAgent(t, opts)
	cases := []struct {
		name string
		auth string
		want int
	}{
		{name: "no token", want: http.StatusUnauthorized},
		{name: "wrong token", auth: "Bearer c0ntrol-t0ke", want: http.StatusUnauthorized},
		{name: "basic auth", auth: "Basic YTpi", want: http.StatusUnauthorized},
		{name: "right token", auth: "Bearer c0ntrol-t0ken", want: http.StatusCreated},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := r.rt.count()
			code, body := r.do(t, http.MethodPost, "/v1/cronjobs/ops/backup/trigger", map[string]string{"Authorization": tc.auth}, nil)
			if code != tc.want {
				t.Errorf("trigger = %d %q, want %d", code, body, tc.want)
			}
			if fired := r.rt.count() > before; fired != (tc.want == http.StatusCreated) {
				t.Errorf("runtime commanded: %v, want %v", fired, tc.want == http.StatusCreated)
			}
			if strings.Contains(body, "c0ntrol") {
				t.Errorf("response leaks the token: %q", body)
			}
		})
	}
}

// TestTCPHandlerMatchesListen: TCPHandler, for embedding and tests, is the
// handler Listen serves: pages answer, the control API does not.
func TestTCPHandlerMatchesListen(t *testing.T) {
	fail := false
	opts := DefaultOptions()
	opts.Pages = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "page") })
	a, _ := newTestAgent(t, &fail, opts)
	srv := httptest.NewServer(a.TCPHandler())
	defer srv.Close()
	if body := getBody(t, srv.URL+"/"); body != "page" {
		t.Errorf("GET / = %q, want the page", body)
	}
	resp, err := http.Post(srv.URL+"/v1/reconcile", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || len(a.trigger) != 0 {
		t.Errorf("POST /v1/reconcile = %d (pending %d), want 404 and nothing pending", resp.StatusCode, len(a.trigger))
	}
}
