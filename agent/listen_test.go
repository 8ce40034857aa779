package agent

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jobsync/jobsync/internal/nettest"
)

// shortLimits are limits a test can wait out in well under 3 s.
func shortLimits() HTTPLimits {
	l := DefaultHTTPLimits()
	l.ReadHeaderTimeout, l.ReadTimeout, l.WriteTimeout, l.IdleTimeout = 400*time.Millisecond, 400*time.Millisecond, time.Second, 400*time.Millisecond
	return l
}

// TestSlowClientsAreCut: a real TCP client that sends its request at one
// byte a second, or sends a request and then holds the connection, is
// disconnected once the limits run out, long before it is done.
func TestSlowClientsAreCut(t *testing.T) {
	secret := []byte("hook-secret")
	body := strings.Repeat("x", 30)
	cases := []struct {
		name    string
		head    string // sent at once
		trickle string // then one byte a second
	}{
		{name: "webhook body at 1 byte/s", head: "POST /hooks/generic HTTP/1.1\r\nHost: agent\r\nContent-Length: 30\r\n" +
			HeaderGenericSignature + ": " + Sign(secret, []byte(body)) + "\r\n\r\n", trickle: body},
		{name: "headers at 1 byte/s", trickle: "GET /healthz HTTP/1.1\r\nHost: agent\r\nX-Slow: " + body},
		{name: "idle after a request", head: "GET /healthz HTTP/1.1\r\nHost: agent\r\n\r\n"},
	}
	wo := DefaultWebhookOptions()
	wo.Secret = secret
	opts := DefaultOptions()
	opts.Webhook, opts.HTTP = &wo, shortLimits()
	r := startAgent(t, opts)
	r.hc.CloseIdleConnections()
	applied := r.applied()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", strings.TrimPrefix(r.tcp, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := time.Now()
			if _, err := c.Write([]byte(tc.head)); err != nil {
				t.Fatal(err)
			}
			if !cutWithin(c, tc.trickle, 3*time.Second) {
				t.Fatalf("connection still open after %s", time.Since(start).Round(time.Millisecond))
			}
			t.Logf("cut after %s", time.Since(start).Round(time.Millisecond))
		})
	}
	// A webhook cut short does not reconcile (the loop runs async: the
	// pending trigger is the thing to check).
	if n := len(r.a.trigger); n != 0 || r.applied() != applied {
		t.Errorf("a cut webhook triggered a reconcile (pending %d, applied %d → %d)", n, applied, r.applied())
	}
}

// cutWithin sends trickle one byte a second on c, reading in between, and
// reports whether the server closed c before budget ran out. The answer
// the server may send first (408, 413, 200 of the idle case) is read past.
func cutWithin(c net.Conn, trickle string, budget time.Duration) bool {
	deadline := time.Now().Add(budget)
	buf := make([]byte, 4096)
	for i := 0; time.Now().Before(deadline); i++ {
		if i < len(trickle) {
			if _, err := c.Write([]byte{trickle[i]}); err != nil {
				return true // reset by the server
			}
		}
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		for {
			_, err := c.Read(buf)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				break // still open: next byte
			}
			if err != nil {
				return true // EOF or reset
			}
		}
	}
	return false
}

// TestConnectionCap: with MaxConns held by idle keep-alive clients, a new
// client is not served until one of them lets go; the socket is not capped.
func TestConnectionCap(t *testing.T) {
	opts := DefaultOptions()
	opts.HTTP.MaxConns, opts.HTTP.IdleTimeout = 2, time.Minute
	r := startAgent(t, opts)
	r.hc.CloseIdleConnections()
	var holders []*http.Client
	for range 2 {
		hc := &http.Client{Transport: &http.Transport{}}
		if code := getWith(t, hc, r.tcp+"/healthz"); code != http.StatusOK {
			t.Fatalf("holder: /healthz = %d", code)
		}
		holders = append(holders, hc)
	}
	third := &http.Client{Transport: &http.Transport{}, Timeout: 500 * time.Millisecond}
	if resp, err := third.Get(r.tcp + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatalf("a third connection was served over a cap of 2 (%s)", resp.Status)
	}
	if _, err := r.socket.Status(context.Background()); err != nil {
		t.Errorf("socket while TCP is full: %v", err)
	}
	holders[0].CloseIdleConnections()
	third.Timeout = 5 * time.Second
	if code := getWith(t, third, r.tcp+"/healthz"); code != http.StatusOK {
		t.Errorf("after a holder left: /healthz = %d", code)
	}
}

func getWith(t *testing.T, hc *http.Client, url string) int {
	t.Helper()
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body) // read to the end: the connection stays open
	return resp.StatusCode
}

// brokenListener fails Accept for good, as a listener whose socket the
// kernel took away would.
type brokenListener struct{ net.Listener }

func (b brokenListener) Accept() (net.Conn, error) {
	return nil, errors.New("accept: listener broken")
}

// TestFailedServeStopsAgent: when one server stops for an error, Run stops
// the loop and the other server and returns that error, instead of
// serving on half its listeners until killed.
func TestFailedServeStopsAgent(t *testing.T) {
	fail := false
	sock := filepath.Join(shortTempDir(t), SocketName)
	opts := DefaultOptions()
	opts.Socket, opts.Listen = sock, nettest.FreeLoopbackAddr(t)
	a, _ := newTestAgent(t, &fail, opts)
	a.wrapListener = func(l net.Listener) net.Listener { return brokenListener{l} }
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "listener broken") {
			t.Fatalf("Run = %v, want the serve error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run still running 5 s after its TCP server failed")
	}
	if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left behind: %v", err)
	}
}
