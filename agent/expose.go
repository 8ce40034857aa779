package agent

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// controlPrefix is where the control API lives: commands (reconcile,
// trigger, suspend, resume) and the runtime's whole objects.
const controlPrefix = "/v1/"

// tcpRoutes is what Listen serves: the public routes, Pages at "/" (GET and
// HEAD only), and the control API only to holders of Options.ControlToken.
// The public mux holds no control route at all, so no path spelling (".."
// or "//", which it redirects to the clean path, percent-escapes) reaches
// one through it.
func (a *Agent) tcpRoutes(control http.Handler) http.Handler {
	public := http.NewServeMux()
	a.publicRoutes(public)
	if a.opts.Pages != nil {
		public.Handle("GET /", readOnly(a.opts.Pages))
	}
	guarded := a.requireToken(control)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isControlPath(r.URL.Path) {
			guarded.ServeHTTP(w, r)
			return
		}
		public.ServeHTTP(w, r)
	})
}

func isControlPath(p string) bool {
	return p == strings.TrimSuffix(controlPrefix, "/") || strings.HasPrefix(p, controlPrefix)
}

// requireToken serves control to requests bearing Options.ControlToken;
// without a token configured, the control API is not found on TCP.
func (a *Agent) requireToken(control http.Handler) http.Handler {
	token := a.opts.ControlToken
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(token) == 0 {
			http.Error(w, "the control API is served on the agent's unix socket only (jobsync CLI with --state-dir), or here with the agent's --control-token-file", http.StatusNotFound)
			return
		}
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), token) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="jobsync control"`)
			http.Error(w, "the control API needs Authorization: Bearer <the token of the agent's --control-token-file>", http.StatusUnauthorized)
			return
		}
		control.ServeHTTP(w, r)
	})
}

// readOnly passes GET and HEAD requests outside the control API to h.
func readOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method != http.MethodGet && r.Method != http.MethodHead:
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "read-only", http.StatusMethodNotAllowed)
		case isControlPath(r.URL.Path):
			http.NotFound(w, r)
		default:
			h.ServeHTTP(w, r)
		}
	})
}
