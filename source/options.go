package source

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"path/filepath"
	"strings"

	"k8s.io/utils/clock"
)

// GitOptions configures a Git source. Start from DefaultGitOptions.
type GitOptions struct {
	// URL of the repository: https://, http://, ssh://, git://, file://
	// or scp-like user@host:path. Userinfo in an http(s) URL is moved to
	// Auth (basic auth) and never shown.
	URL string
	// Ref selects the revision.
	Ref Ref
	// Path is a directory inside the repository (slash-separated,
	// relative); Artifact.Dir points at it. "" is the repository root.
	Path string
	// CacheDir holds the cached repositories and checkouts. It may be
	// shared by any number of sources and processes.
	CacheDir string
	// Auth holds credentials and transport security settings.
	Auth Auth
	// Shallow fetches branches and tags with depth 1 (commits are always
	// fetched with their history).
	Shallow bool
	// MaxSize bounds, in bytes, both the pack data one fetch may download
	// and the total size of the files of a checkout. 0 means no limit.
	MaxSize int64
	// HistoryDepth is how many commits back from a new commit are searched
	// for the previous one to tell a fast-forward from a rewrite; in a
	// shallow cache, that many commits are fetched when needed.
	HistoryDepth int
	// KeepCheckouts is how many checkout directories the cache keeps
	// besides the ones last delivered for each ref.
	KeepCheckouts int
	// RecurseSubmodules fetches submodules (over http(s), ssh or git only)
	// into the checkout; when false they are left as empty directories and
	// listed in Artifact.SkippedSubmodules.
	RecurseSubmodules bool
	// Keyring, when not empty, turns on commit signature verification: an
	// OpenPGP public keyring (armored or binary), and the commit checked
	// out must carry a valid signature by one of its keys (its ancestors
	// are not checked).
	Keyring []byte
	// Clock stamps checkout directories for the cache's clean-up order.
	Clock clock.PassiveClock
}

// Auth holds credentials and transport security settings. Secrets given here
// are never written to disk, logs, errors or revisions.
type Auth struct {
	// Username and Password are HTTP basic credentials (Password may be a
	// token).
	Username, Password string
	// BearerToken is sent as "Authorization: Bearer <token>" over HTTP(S).
	BearerToken string
	// SSHKey is a PEM private key (OpenSSH or PKCS#1/#8), required for SSH
	// URLs; SSHPassphrase decrypts it when it is encrypted.
	SSHKey        []byte
	SSHPassphrase string
	// KnownHosts is the content of a known_hosts file. SSH host keys are
	// verified against it: an unknown or changed host key is an error.
	KnownHosts []byte
	// InsecureSkipHostKeyCheck accepts any SSH host key.
	InsecureSkipHostKeyCheck bool
	// CABundle is PEM certificates trusted for HTTPS besides the system's.
	CABundle []byte
}

// DefaultMaxSize is the default GitOptions.MaxSize (and --max-size): a fetch
// holds up to about 1.5× its biggest blob in memory, and the memory limit of
// deploy/ (256 MiB) is sized for the agent plus 1.5× this (docs/source.md,
// Memory). Manifests are small; raise both together.
const DefaultMaxSize = 64 << 20

// DefaultGitOptions returns options with shallow fetches, a 64 MiB size
// limit, a 100-commit history search and 3 kept checkouts. URL, Ref and
// CacheDir must still be set.
func DefaultGitOptions() GitOptions {
	return GitOptions{
		Shallow:       true,
		MaxSize:       DefaultMaxSize,
		HistoryDepth:  100,
		KeepCheckouts: 3,
		Clock:         clock.RealClock{},
	}
}

// remoteURL is a repository URL split into what may be shown and what may
// not.
type remoteURL struct {
	// display has no password, and no userinfo at all for http(s).
	display string
	scheme  string // "http", "https", "ssh", "git", "file"
	host    string // host:port for ssh host key checks ("" for file)
	user    string // userinfo user (http(s): a credential; ssh: login)
	pass    string // userinfo password
}

// defaultPorts are the ports a URL without one uses.
var defaultPorts = map[string]string{"http": "80", "https": "443", "ssh": "22", "git": "9418"}

// origin is scheme://host:port, lowercased and with the default port filled
// in: credentials given for one origin are sent to no other.
func (r remoteURL) origin() string {
	host, port, err := net.SplitHostPort(r.host)
	if err != nil {
		host, port = strings.Trim(r.host, "[]"), defaultPorts[r.scheme]
	}
	return r.scheme + "://" + strings.ToLower(net.JoinHostPort(host, port))
}

// parseRemoteURL splits raw into a credential-free URL and the credentials
// it carried.
func parseRemoteURL(raw string) (remoteURL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return remoteURL{}, fmt.Errorf("%w: url is empty", ErrInvalidOptions)
	}
	if !strings.Contains(raw, "://") {
		return parseSCPLike(raw)
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse errors quote the URL, password included.
		return remoteURL{}, fmt.Errorf("%w: url is not a valid URL", ErrInvalidOptions)
	}
	r := remoteURL{scheme: strings.ToLower(u.Scheme), host: u.Host}
	switch r.scheme {
	case "http", "https", "ssh", "git", "file":
	default:
		return remoteURL{}, fmt.Errorf("%w: url scheme %q is not supported (use https, http, ssh, git or file)", ErrInvalidOptions, u.Scheme)
	}
	if u.User != nil {
		r.user = u.User.Username()
		r.pass, _ = u.User.Password()
	}
	switch r.scheme {
	case "ssh":
		if r.pass != "" {
			return remoteURL{}, fmt.Errorf("%w: ssh url carries a password; use a private key (SSHKey)", ErrInvalidOptions)
		}
		if r.user != "" {
			u.User = url.User(r.user)
		}
		if u.Port() == "" {
			r.host = u.Hostname() + ":22"
		}
	default:
		u.User = nil
	}
	r.display = u.String()
	return r, nil
}

// parseSCPLike reads user@host:path (no password possible).
func parseSCPLike(raw string) (remoteURL, error) {
	at := strings.LastIndex(raw, "@")
	colon := strings.Index(raw[at+1:], ":")
	if colon <= 0 || strings.HasPrefix(raw, "/") || strings.HasPrefix(raw, ".") {
		return remoteURL{}, fmt.Errorf("%w: url %q is neither a URL nor user@host:path; local directories are a local source", ErrInvalidOptions, raw)
	}
	if strings.Contains(raw[:max(at, 0)], ":") {
		return remoteURL{}, fmt.Errorf("%w: url: a user@host:path url cannot carry a password; use a private key (SSHKey)", ErrInvalidOptions)
	}
	host := raw[at+1 : at+1+colon]
	r := remoteURL{display: raw, scheme: "ssh", host: host + ":22"}
	if at >= 0 {
		r.user = raw[:at]
	}
	return r, nil
}

// cleanSubPath checks a slash-separated sub-path and returns it cleaned
// ("" for the root).
func cleanSubPath(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	c := path.Clean(strings.ReplaceAll(p, "\\", "/"))
	if c == "." {
		return "", nil
	}
	if path.IsAbs(c) || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("%w: path %q must be relative and stay inside the repository", ErrInvalidOptions, p)
	}
	return c, nil
}

// dirOf joins a checkout root and a cleaned sub-path.
func dirOf(root, sub string) string {
	if sub == "" {
		return root
	}
	return filepath.Join(root, filepath.FromSlash(sub))
}
