package gittest

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cgi"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// HTTPOptions configures StartHTTP. With no credentials set, anyone may
// fetch. With Username/Password and/or Token set, a request needs matching
// basic auth or "Authorization: Bearer <Token>", else 401.
type HTTPOptions struct {
	Username, Password string
	Token              string
	// TLS serves HTTPS with a certificate for 127.0.0.1 signed by a
	// throwaway CA (HTTPServer.CAPEM).
	TLS bool
}

// HTTPStats counts what the server did since it started.
type HTTPStats struct {
	// InfoRefs counts ref advertisements (GET .../info/refs).
	InfoRefs int64
	// UploadPacks counts fetch negotiations (POST .../git-upload-pack).
	UploadPacks int64
	// UploadPackBytes counts the bytes sent in upload-pack responses.
	UploadPackBytes int64
	// Unauthorized counts requests answered 401.
	Unauthorized int64
	// WithAuthorization counts requests that carried an Authorization
	// header, whether the server asks for credentials or not.
	WithAuthorization int64
}

// HTTPServer is smart HTTP: `git http-backend` run through net/http/cgi.
type HTTPServer struct {
	l    *loopback
	opts HTTPOptions
	// CAPEM is the PEM certificate of the CA that signed the server's
	// certificate (nil without TLS).
	CAPEM []byte

	backend string
	base    string
	refuse  atomic.Int32
	stats   struct{ infoRefs, uploadPacks, bytes, unauthorized, withAuthorization atomic.Int64 }

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

// StartHTTP serves every repository below base over smart HTTP(S). It is
// stopped by t.Cleanup.
func StartHTTP(t testing.TB, base string, opts HTTPOptions) *HTTPServer {
	t.Helper()
	s := &HTTPServer{opts: opts, base: base, conns: map[net.Conn]struct{}{}}
	s.backend = filepath.Join(strings.TrimSpace(mustGit(t, base, "--exec-path")), "git-http-backend")
	cl := newChanListener()
	s.l = startLoopback(t, func(_ context.Context, c net.Conn) { cl.push(c) })
	var ln net.Listener = cl
	if opts.TLS {
		ca, cert := newTLSCert(t)
		s.CAPEM = ca
		ln = tls.NewListener(cl, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	}
	// Handshake failures are what TLS tests provoke: not worth a log line.
	srv := &http.Server{Handler: s, ConnState: s.track, ErrorLog: log.New(io.Discard, "", 0)}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		_ = srv.Close()
		cl.Close()
	})
	return s
}

// URL returns http(s)://127.0.0.1:port/name.
func (s *HTTPServer) URL(name string) string {
	scheme := "http"
	if s.opts.TLS {
		scheme = "https"
	}
	return scheme + "://" + s.l.addr + "/" + name
}

// Addr returns the server's host:port.
func (s *HTTPServer) Addr() string { return s.l.addr }

// Stop refuses new connections and closes open ones until Restart.
func (s *HTTPServer) Stop() {
	s.l.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		_ = c.Close()
	}
}

// Restart serves again on the same address.
func (s *HTTPServer) Restart() error { return s.l.Restart() }

// Refuse makes every request fail with HTTP status code (0 serves again).
func (s *HTTPServer) Refuse(code int) { s.refuse.Store(int32(code)) }

// Stats returns the request counters.
func (s *HTTPServer) Stats() HTTPStats {
	return HTTPStats{
		InfoRefs:        s.stats.infoRefs.Load(),
		UploadPacks:     s.stats.uploadPacks.Load(),
		UploadPackBytes: s.stats.bytes.Load(),
		Unauthorized:    s.stats.unauthorized.Load(),
		// A credential sent to a server that asked for none is a leak.
		WithAuthorization: s.stats.withAuthorization.Load(),
	}
}

func (s *HTTPServer) track(c net.Conn, st http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch st {
	case http.StateNew:
		s.conns[c] = struct{}{}
	case http.StateClosed, http.StateHijacked:
		delete(s.conns, c)
	}
}

// ServeHTTP checks credentials and hands the request to git http-backend.
func (s *HTTPServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "" {
		s.stats.withAuthorization.Add(1)
	}
	if code := s.refuse.Load(); code != 0 {
		http.Error(w, "refused by test", int(code))
		return
	}
	user, ok := s.authorize(r)
	if !ok {
		s.stats.unauthorized.Add(1)
		w.Header().Set("WWW-Authenticate", `Basic realm="gittest"`)
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	env := append([]string{"GIT_PROJECT_ROOT=" + s.base, "GIT_HTTP_EXPORT_ALL=1"}, gitEnvironment...)
	if user != "" {
		env = append(env, "REMOTE_USER="+user)
	}
	switch {
	case strings.HasSuffix(r.URL.Path, "/info/refs"):
		s.stats.infoRefs.Add(1)
	case strings.HasSuffix(r.URL.Path, "/git-upload-pack"):
		s.stats.uploadPacks.Add(1)
		w = &countingWriter{ResponseWriter: w, n: &s.stats.bytes}
	}
	h := &cgi.Handler{Path: s.backend, Root: "/", Env: env}
	h.ServeHTTP(w, r)
}

func (s *HTTPServer) authorize(r *http.Request) (user string, ok bool) {
	s.mu.Lock()
	o := s.opts // SetBasicAuth may change it
	s.mu.Unlock()
	if o.Username == "" && o.Password == "" && o.Token == "" {
		return "", true
	}
	if u, p, has := r.BasicAuth(); has && (o.Username != "" || o.Password != "") {
		if equal(u, o.Username) && equal(p, o.Password) {
			return u, true
		}
		return "", false
	}
	if tok, has := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); has && o.Token != "" {
		return "token", equal(tok, o.Token)
	}
	return "", false
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.n.Add(int64(n))
	return n, err
}

// chanListener is a net.Listener fed with connections accepted elsewhere.
type chanListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newChanListener() *chanListener {
	return &chanListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *chanListener) push(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.done:
		_ = c.Close()
	}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}
}
