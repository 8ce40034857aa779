package gittest

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// SSHOptions configures StartSSHD.
type SSHOptions struct {
	// Passphrase, when set, encrypts SSHServer.ClientKeyPEM.
	Passphrase string
}

// SSHServer is OpenSSH's sshd in inetd mode (`sshd -i`), one process per
// connection accepted on 127.0.0.1, with a throwaway host key and one
// authorized client key. It logs in as the user running the test, whose
// shell runs git-upload-pack / git-receive-pack.
type SSHServer struct {
	l    *loopback
	base string
	cfg  string
	sshd string

	// User is the login name to put in URLs.
	User string
	// HostKey is the server's public host key.
	HostKey ssh.PublicKey
	// KnownHosts is a known_hosts file content naming HostKey for Addr.
	KnownHosts []byte
	// ClientKeyPEM is the authorized client private key in OpenSSH PEM
	// format, encrypted with SSHOptions.Passphrase when that is set.
	ClientKeyPEM []byte

	mu  sync.Mutex
	log bytes.Buffer
}

// StartSSHD serves every repository below base over SSH. URLs carry the
// repositories' absolute paths. It is stopped by t.Cleanup.
func StartSSHD(t testing.TB, base string, opts SSHOptions) *SSHServer {
	t.Helper()
	s := &SSHServer{base: base}
	s.sshd = lookPath(t, "sshd", "/usr/sbin/sshd", "/usr/local/sbin/sshd")
	u, err := user.Current()
	if err != nil {
		t.Fatalf("gittest: sshd: %v", err)
	}
	s.User = u.Username
	if os.Geteuid() == 0 {
		// sshd running as root insists on its privilege separation directory.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatalf("gittest: sshd: %v", err)
		}
	}
	dir := t.TempDir()
	hostPEM, hostPub := NewSSHKey(t, "")
	s.HostKey = hostPub
	clientPEM, clientPub := NewSSHKey(t, opts.Passphrase)
	s.ClientKeyPEM = clientPEM
	writeFile(t, filepath.Join(dir, "host_ed25519"), hostPEM, 0o600)
	writeFile(t, filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(clientPub), 0o600)
	s.cfg = filepath.Join(dir, "sshd_config")
	writeFile(t, s.cfg, []byte(sshdConfig(dir, s.User)), 0o600)
	s.l = startLoopback(t, s.serve)
	s.KnownHosts = []byte(KnownHostsLine(s.l.addr, hostPub) + "\n")
	return s
}

func sshdConfig(dir, user string) string {
	return strings.Join([]string{
		"HostKey " + filepath.Join(dir, "host_ed25519"),
		"AuthorizedKeysFile " + filepath.Join(dir, "authorized_keys"),
		"AllowUsers " + user,
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PermitRootLogin prohibit-password",
		"UsePAM no",
		"StrictModes no",
		"PidFile none",
		"UseDNS no",
		"PrintMotd no",
		"PrintLastLog no",
		"LogLevel ERROR",
		// bash reads ~/.bashrc for commands run by sshd only in a top-level
		// shell; SHLVL=1 makes the login shell a nested one, so slow or
		// noisy rc files cannot break or delay the git protocol.
		"SetEnv SHLVL=1",
		"",
	}, "\n")
}

func (s *SSHServer) serve(ctx context.Context, c net.Conn) {
	defer c.Close()
	f, err := c.(*net.TCPConn).File()
	if err != nil {
		s.logf("gittest: sshd: %v\n", err)
		return
	}
	defer f.Close()
	cmd := exec.CommandContext(ctx, s.sshd, "-i", "-e", "-f", s.cfg)
	cmd.Stdin, cmd.Stdout = f, f
	cmd.Stderr = &lockedWriter{mu: &s.mu, w: &s.log}
	if err := cmd.Start(); err != nil {
		s.logf("gittest: sshd: %v\n", err)
		return
	}
	f.Close()
	c.Close()
	_ = cmd.Wait()
}

// URL returns ssh://user@127.0.0.1:port/<base>/name.
func (s *SSHServer) URL(name string) string {
	return "ssh://" + s.User + "@" + s.l.addr + filepath.ToSlash(filepath.Join(s.base, name))
}

// Addr returns the server's host:port.
func (s *SSHServer) Addr() string { return s.l.addr }

// Stop refuses new connections until Restart.
func (s *SSHServer) Stop() { s.l.Stop() }

// Restart serves again on the same address.
func (s *SSHServer) Restart() error { return s.l.Restart() }

// Log returns what the sshd processes wrote to stderr.
func (s *SSHServer) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

func (s *SSHServer) logf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(&s.log, format, args...)
}

// NewSSHKey generates an ed25519 key pair. It returns the private key in
// OpenSSH PEM format (encrypted with passphrase when not empty) and the
// public key.
func NewSSHKey(t testing.TB, passphrase string) (privatePEM []byte, pub ssh.PublicKey) {
	t.Helper()
	pk, sk, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("gittest: ssh key: %v", err)
	}
	var block *pem.Block
	if passphrase != "" {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(sk, "gittest", []byte(passphrase))
	} else {
		block, err = ssh.MarshalPrivateKey(sk, "gittest")
	}
	if err != nil {
		t.Fatalf("gittest: ssh key: %v", err)
	}
	pub, err = ssh.NewPublicKey(pk)
	if err != nil {
		t.Fatalf("gittest: ssh key: %v", err)
	}
	return pem.EncodeToMemory(block), pub
}

// KnownHostsLine returns the known_hosts line naming key for addr
// (host:port).
func KnownHostsLine(addr string, key ssh.PublicKey) string {
	return knownhosts.Line([]string{knownhosts.Normalize(addr)}, key)
}

func writeFile(t testing.TB, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatalf("gittest: %v", err)
	}
}
