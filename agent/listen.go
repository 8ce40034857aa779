package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/net/netutil"
)

// HTTPLimits bounds what one client may hold of the agent's HTTP servers
// (the fields of net/http.Server of the same names, and a connection cap).
type HTTPLimits struct {
	// ReadHeaderTimeout bounds the reading of a request's headers.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds the reading of a whole request, body included: a
	// client sending a byte a second is cut when it runs out.
	ReadTimeout time.Duration
	// WriteTimeout bounds the handling of a request and the writing of its
	// response.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle this long.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's headers.
	MaxHeaderBytes int
	// MaxConns caps the connections open at once on Listen (the socket,
	// reachable by the agent's user only, is not capped); 0 = no cap. A
	// connection over the cap waits to be accepted.
	MaxConns int
}

// DefaultHTTPLimits returns limits a webhook of 1 MiB and a /status of
// 10,000 objects fit in with room to spare.
func DefaultHTTPLimits() HTTPLimits {
	return HTTPLimits{
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
		MaxConns:          128,
	}
}

// server is one http.Server and its listener.
type server struct {
	srv *http.Server
	l   net.Listener
}

// serve serves until Shutdown (nil) or an error of the listener.
func (s server) serve() error {
	if err := s.srv.Serve(s.l); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve %s: %w", s.l.Addr(), err)
	}
	return nil
}

// listen opens the socket (the whole API) and the TCP address (its public
// part), each with the limits.
func (a *Agent) listen() ([]server, error) {
	var out []server
	if a.opts.Socket != "" {
		l, err := listenUnix(a.opts.Socket)
		if err != nil {
			return nil, err
		}
		out = append(out, server{a.newServer(a.handler), l})
	}
	if a.opts.Listen != "" {
		l, err := net.Listen("tcp", a.opts.Listen)
		if err != nil {
			for _, s := range out {
				s.l.Close()
			}
			return nil, fmt.Errorf("listen %s: %w", a.opts.Listen, err)
		}
		if a.wrapListener != nil {
			l = a.wrapListener(l)
		}
		if n := a.opts.HTTP.MaxConns; n > 0 {
			l = netutil.LimitListener(l, n)
		}
		out = append(out, server{a.newServer(a.tcpHandler), l})
	}
	return out, nil
}

func (a *Agent) newServer(h http.Handler) *http.Server {
	lim := a.opts.HTTP
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: lim.ReadHeaderTimeout,
		ReadTimeout:       lim.ReadTimeout,
		WriteTimeout:      lim.WriteTimeout,
		IdleTimeout:       lim.IdleTimeout,
		MaxHeaderBytes:    lim.MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(a.opts.Logger.Handler(), slog.LevelWarn),
	}
}

// shutdown stops the servers, letting requests under way finish within
// ShutdownTimeout.
func (a *Agent) shutdown(servers []server) {
	ctx, cancel := context.WithTimeout(context.Background(), a.opts.ShutdownTimeout)
	defer cancel()
	for _, s := range servers {
		_ = s.srv.Shutdown(ctx)
	}
}

// listenUnix listens on path, replacing a stale socket left by a crash but
// refusing to steal one that a running agent still answers on. The socket
// is 0600; its directory (the state directory) is 0700, so no other user
// reaches it in the moment before the chmod either.
func listenUnix(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("socket dir: %w", err)
	}
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("socket %s: another agent is running on this state directory", path)
	}
	_ = os.Remove(path)
	l, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		l.Close()
		return nil, fmt.Errorf("socket %s: %w", path, err)
	}
	return l, nil
}

// group runs functions until all return; the first error cancels the
// context they share, and Wait returns it (golang.org/x/sync/errgroup's
// WithContext, which this module does not require).
type group struct {
	wg     sync.WaitGroup
	cancel context.CancelFunc
	once   sync.Once
	err    error
}

func newGroup(ctx context.Context) (*group, context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	return &group{cancel: cancel}, ctx
}

// Go runs f in a goroutine.
func (g *group) Go(f func() error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		if err := f(); err != nil {
			g.once.Do(func() {
				g.err = err
				g.cancel()
			})
		}
	}()
}

// Wait waits for every function and returns the first error.
func (g *group) Wait() error {
	g.wg.Wait()
	g.cancel()
	return g.err
}
