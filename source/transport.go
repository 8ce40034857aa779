package source

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// transportAuth is the go-git auth method for a remote plus what the SSH
// host key check saw, to explain a failed connection.
type transportAuth struct {
	method transport.AuthMethod
	ca     []byte

	mu     sync.Mutex
	hkErr  error // last host key verification failure
	secret redactor
}

// newTransportAuth builds the go-git auth for r from a. It never returns an
// error that contains a secret.
func newTransportAuth(r remoteURL, a Auth) (*transportAuth, error) {
	t := &transportAuth{ca: a.CABundle, secret: newRedactor(a.Password, a.BearerToken, a.SSHPassphrase, r.pass)}
	if len(a.CABundle) > 0 {
		if ok := x509.NewCertPool().AppendCertsFromPEM(a.CABundle); !ok {
			return nil, fmt.Errorf("%w: ca bundle has no PEM certificate", ErrInvalidOptions)
		}
	}
	switch r.scheme {
	case "http", "https":
		user, pass := a.Username, a.Password
		if r.user != "" && user == "" && pass == "" {
			user, pass = r.user, r.pass
		}
		switch {
		case a.BearerToken != "":
			t.method = &githttp.TokenAuth{Token: a.BearerToken}
		case user != "" || pass != "":
			t.method = &githttp.BasicAuth{Username: user, Password: pass}
		}
	case "ssh":
		m, err := t.sshAuth(r, a)
		if err != nil {
			return nil, err
		}
		t.method = m
	}
	return t, nil
}

func (t *transportAuth) sshAuth(r remoteURL, a Auth) (transport.AuthMethod, error) {
	if len(a.SSHKey) == 0 {
		return nil, fmt.Errorf("%w: an ssh url needs a private key (SSHKey)", ErrInvalidOptions)
	}
	user := r.user
	if user == "" {
		user = "git"
	}
	keys, err := gitssh.NewPublicKeys(user, a.SSHKey, a.SSHPassphrase)
	if err != nil {
		// The parser's message names no key material, but hide the
		// passphrase anyway.
		return nil, t.secret.error(fmt.Errorf("%w: ssh private key: %w", ErrInvalidOptions, err))
	}
	cb, err := t.hostKeyCallback(a)
	if err != nil {
		return nil, err
	}
	keys.HostKeyCallback = cb
	return keys, nil
}

// hostKeyCallback verifies host keys against a.KnownHosts (an empty file
// knows no host), remembering why a key was refused.
func (t *transportAuth) hostKeyCallback(a Auth) (ssh.HostKeyCallback, error) {
	if a.InsecureSkipHostKeyCheck {
		return ssh.InsecureIgnoreHostKey(), nil //nolint:gosec // asked for explicitly
	}
	f, err := os.CreateTemp("", "jobsync-known-hosts-")
	if err != nil {
		return nil, fmt.Errorf("known_hosts: %w", err)
	}
	defer os.Remove(f.Name())
	_, werr := f.Write(a.KnownHosts)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return nil, fmt.Errorf("known_hosts: %w", werr)
	}
	check, err := knownhosts.New(f.Name())
	if err != nil {
		return nil, fmt.Errorf("%w: known_hosts: %w", ErrInvalidOptions, err)
	}
	return func(host string, remote net.Addr, key ssh.PublicKey) error {
		err := check(host, remote, key)
		var ke *knownhosts.KeyError
		switch {
		case err == nil:
			return nil
		case errors.As(err, &ke) && len(ke.Want) == 0:
			err = fmt.Errorf("%w: %s offered %s key %s, which known_hosts does not list (add it, or pass --insecure-skip-host-key-check)",
				ErrHostKeyUnknown, knownhosts.Normalize(host), key.Type(), ssh.FingerprintSHA256(key))
		case errors.As(err, &ke):
			err = fmt.Errorf("%w: %s offered %s key %s, but known_hosts line %d names another key for it",
				ErrHostKeyChanged, knownhosts.Normalize(host), key.Type(), ssh.FingerprintSHA256(key), ke.Want[0].Line)
		}
		t.mu.Lock()
		t.hkErr = err
		t.mu.Unlock()
		return err
	}, nil
}

// classify maps a go-git transport error to this package's errors, with a
// message that says what to do, and removes secrets from it.
func (t *transportAuth) classify(ctx context.Context, op, url string, err error) error {
	if err == nil {
		return nil
	}
	t.mu.Lock()
	hk := t.hkErr
	t.mu.Unlock()
	msg := err.Error()
	var (
		unknownCA x509.UnknownAuthorityError
		certErr   *tls.CertificateVerificationError
		hostErr   x509.HostnameError
		netErr    net.Error
	)
	switch {
	case hk != nil:
		err = fmt.Errorf("%s %s: %w", op, url, hk)
	case ctx.Err() != nil:
		err = fmt.Errorf("%s %s: %w", op, url, ctx.Err())
	case errors.Is(err, transport.ErrAuthenticationRequired):
		err = fmt.Errorf("%s %s: %w: the server asks for credentials (none given, or they were rejected)", op, url, ErrAuth)
	case errors.Is(err, transport.ErrAuthorizationFailed), strings.Contains(msg, "unable to authenticate"):
		err = fmt.Errorf("%s %s: %w: the server rejected the credentials", op, url, ErrAuth)
	case errors.Is(err, transport.ErrRepositoryNotFound):
		err = fmt.Errorf("%s %s: %w", op, url, ErrRepoNotFound)
	case errors.As(err, &unknownCA), errors.As(err, &certErr), errors.As(err, &hostErr), strings.Contains(msg, "x509:"):
		err = fmt.Errorf("%s %s: %w: %v (give the server's CA with --ca-file)", op, url, ErrTLS, err)
	case errors.As(err, &netErr), strings.Contains(msg, "connection refused"), strings.Contains(msg, "status code: 5"),
		strings.Contains(msg, "EOF"), strings.Contains(msg, "connection reset"):
		err = fmt.Errorf("%s %s: %w: %v", op, url, ErrUnreachable, err)
	case strings.Contains(msg, "not exported"), strings.Contains(msg, "does not appear to be a git repository"):
		err = fmt.Errorf("%s %s: %w: %v", op, url, ErrRepoNotFound, err)
	default:
		err = fmt.Errorf("%s %s: %w", op, url, err)
	}
	return t.secret.error(err)
}
