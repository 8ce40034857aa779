package gittest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"sync"
	"testing"
)

// Daemon is a git:// server: `git daemon --inetd` run once per connection
// accepted on 127.0.0.1, exporting every repository below a base directory.
type Daemon struct {
	l    *loopback
	base string

	mu  sync.Mutex
	log bytes.Buffer
}

// StartDaemon serves every repository below base over git://. It is stopped
// by t.Cleanup.
func StartDaemon(t testing.TB, base string) *Daemon {
	t.Helper()
	gitPath := lookPath(t, "git")
	d := &Daemon{base: base}
	d.l = startLoopback(t, func(ctx context.Context, c net.Conn) {
		d.serve(ctx, gitPath, c)
	})
	return d
}

func (d *Daemon) serve(ctx context.Context, gitPath string, c net.Conn) {
	defer c.Close()
	f, err := c.(*net.TCPConn).File()
	if err != nil {
		d.logf("gittest: daemon: %v\n", err)
		return
	}
	defer f.Close()
	cmd := exec.CommandContext(ctx, gitPath, "daemon", "--inetd", "--export-all",
		"--informative-errors", "--base-path="+d.base, d.base)
	cmd.Env = append(cmd.Environ(), gitEnvironment...)
	cmd.Stdin, cmd.Stdout = f, f
	cmd.Stderr = &lockedWriter{mu: &d.mu, w: &d.log}
	if err := cmd.Start(); err != nil {
		d.logf("gittest: daemon: %v\n", err)
		return
	}
	// The child holds the socket now; our copies must not keep it open.
	f.Close()
	c.Close()
	_ = cmd.Wait()
}

// URL returns git://127.0.0.1:port/name.
func (d *Daemon) URL(name string) string { return "git://" + d.l.addr + "/" + name }

// Addr returns the server's host:port.
func (d *Daemon) Addr() string { return d.l.addr }

// Stop refuses new connections until Restart.
func (d *Daemon) Stop() { d.l.Stop() }

// Restart serves again on the same address.
func (d *Daemon) Restart() error { return d.l.Restart() }

// Log returns what the daemon processes wrote to stderr.
func (d *Daemon) Log() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.log.String()
}

func (d *Daemon) logf(format string, args ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	_, _ = d.log.WriteString(fmt.Sprintf(format, args...))
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

func lookPath(t testing.TB, name string, extra ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, p := range extra {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	t.Fatalf("gittest: %s not found in PATH (on Debian: apt-get install git openssh-server)", name)
	return ""
}
