package gittest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"
)

// loopback is a TCP listener on 127.0.0.1 that can be stopped and restarted
// on the same address. serve is called with each accepted connection.
type loopback struct {
	addr  string
	serve func(ctx context.Context, c net.Conn)
	// ctx is cancelled at cleanup: servers kill their processes with it.
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	ln      net.Listener
	conns   sync.WaitGroup
	stopped bool
}

func startLoopback(t testing.TB, serve func(ctx context.Context, c net.Conn)) *loopback {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("gittest: listen: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	l := &loopback{addr: ln.Addr().String(), serve: serve, ctx: ctx, cancel: cancel}
	l.run(ln)
	t.Cleanup(func() {
		l.Stop()
		l.cancel()
		l.conns.Wait()
	})
	return l
}

func (l *loopback) run(ln net.Listener) {
	l.mu.Lock()
	l.ln, l.stopped = ln, false
	l.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			l.conns.Add(1)
			go func() {
				defer l.conns.Done()
				l.serve(l.ctx, c)
			}()
		}
	}()
}

// Stop closes the listener: new connections are refused until Restart.
// Connections already accepted finish normally.
func (l *loopback) Stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.stopped {
		l.stopped = true
		_ = l.ln.Close()
	}
}

// Restart listens again on the same address. The kernel may keep the port
// briefly after Stop; Restart retries until a deadline.
func (l *loopback) Restart() error {
	l.mu.Lock()
	if !l.stopped {
		l.mu.Unlock()
		return nil
	}
	l.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ln, err := net.Listen("tcp", l.addr)
		if err == nil {
			l.run(ln)
			return nil
		}
		if time.Now().After(deadline) || !errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("gittest: relisten on %s: %w", l.addr, err)
		}
		time.Sleep(20 * time.Millisecond) // server start: poll with a deadline
	}
}
