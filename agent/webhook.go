package agent

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
)

// WebhookOptions configures the push receivers at /hooks/github,
// /hooks/gitlab and /hooks/generic. A request without a valid signature is
// refused; there is no unsigned mode.
type WebhookOptions struct {
	// Secret is the shared secret (GitHub/generic HMAC key, GitLab token).
	Secret []byte
	// MaxBodyBytes bounds a request body.
	MaxBodyBytes int64
}

// DefaultWebhookOptions returns a 1 MiB body limit; Secret must be set.
func DefaultWebhookOptions() WebhookOptions { return WebhookOptions{MaxBodyBytes: 1 << 20} }

// Headers the receivers read.
const (
	HeaderGitHubSignature  = "X-Hub-Signature-256"
	HeaderGitHubEvent      = "X-GitHub-Event"
	HeaderGitLabToken      = "X-Gitlab-Token"
	HeaderGenericSignature = "X-Jobsync-Signature-256"
)

var errBadSignature = errors.New("signature missing or wrong")

type webhook struct {
	opts    WebhookOptions
	trigger func()
}

func newWebhook(opts WebhookOptions, trigger func()) http.Handler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultWebhookOptions().MaxBodyBytes
	}
	return &webhook{opts: opts, trigger: trigger}
}

func (h *webhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if len(h.opts.Secret) == 0 {
		http.Error(w, "webhook secret not configured", http.StatusForbidden)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	if err != nil {
		http.Error(w, "body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	kind := r.PathValue("kind")
	if err := h.verify(kind, r.Header, body); err != nil {
		status := http.StatusUnauthorized
		if !errors.Is(err, errBadSignature) {
			status = http.StatusNotFound
		}
		http.Error(w, err.Error(), status)
		return
	}
	if kind == "github" && r.Header.Get(HeaderGitHubEvent) == "ping" {
		io.WriteString(w, "pong\n")
		return
	}
	h.trigger()
	w.WriteHeader(http.StatusAccepted)
}

func (h *webhook) verify(kind string, hdr http.Header, body []byte) error {
	switch kind {
	case "github":
		return verifyHMAC(h.opts.Secret, hdr.Get(HeaderGitHubSignature), body)
	case "generic":
		return verifyHMAC(h.opts.Secret, hdr.Get(HeaderGenericSignature), body)
	case "gitlab":
		tok := hdr.Get(HeaderGitLabToken)
		if tok == "" || subtle.ConstantTimeCompare([]byte(tok), h.opts.Secret) != 1 {
			return errBadSignature
		}
		return nil
	}
	return errors.New("unknown webhook kind: use github, gitlab or generic")
}

// verifyHMAC checks a "sha256=<hex>" HMAC-SHA256 of body.
func verifyHMAC(secret []byte, header string, body []byte) error {
	hexSig, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return errBadSignature
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return errBadSignature
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return errBadSignature
	}
	return nil
}

// Sign returns the "sha256=<hex>" signature of body, for senders and tests.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}
