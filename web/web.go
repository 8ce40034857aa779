package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/jobsync/jobsync/fleet"
)

// Revision is what the revision page and the fleet page's header show: the
// agent adapts its reconcile status to it.
type Revision struct {
	// Attempted is the last revision the agent tried, Applied the last one
	// it applied; empty when there is none yet.
	Attempted   string
	AttemptedAt time.Time
	// Stage is where the last attempt stopped (e.g. "applied", "validate").
	Stage string
	// Error is why the last attempt failed; empty when it did not.
	Error     string
	Applied   string
	AppliedAt time.Time
	// Changes are what the last attempt changed (or meant to change).
	Changes []Change
	// Findings are the last attempt's errors and warnings.
	Findings []Finding
}

// Change is one object the last attempt created, updated or deleted.
type Change struct {
	Object string // Kind/namespace/name
	Action string // create, update, recreate, delete, ...
	Reason string
	Done   bool
	Error  string
}

// Finding is one error or warning, at a file:line of the Git repository.
type Finding struct {
	File     string
	Line     int
	Object   string
	Severity string // "error" or "warning"
	Rule     string
	Field    string
	Message  string
}

// LogSource is one container's log of a run.
type LogSource struct {
	// Name says whose log it is, e.g. "pod/container".
	Name string
	Open func() (io.ReadCloser, error)
}

// Options configure New.
type Options struct {
	// View is the fleet; required.
	View fleet.View
	// Revision returns the agent's last attempted and applied revisions;
	// nil shows none.
	Revision func() Revision
	// Logs returns the logs of one run (a Job) while they exist; nil means
	// the target keeps none.
	Logs func(namespace, job string) ([]LogSource, error)
	// Now is the clock the pages measure "ago" and "in" against.
	Now func() time.Time
	// Title heads every page.
	Title string
	// MaxLogBytes caps the log bytes shown per container (the tail is kept).
	MaxLogBytes int64
}

// DefaultOptions returns options with the wall clock, a title and a 256 KiB
// log cap; View is left to the caller.
func DefaultOptions() Options {
	return Options{Now: time.Now, Title: "jobsync", MaxLogBytes: 256 << 10}
}

//go:embed templates/*.html
var templateFS embed.FS

// pages are the parsed templates, one per page, each with the layout.
var pages = sync.OnceValue(func() map[string]*template.Template {
	names := []string{"fleet", "cronjob", "logs", "schedule", "revision"}
	out := make(map[string]*template.Template, len(names))
	for _, n := range names {
		out[n] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+n+".html"))
	}
	return out
})

// server is the handler behind New.
type server struct {
	opts Options
	mux  *http.ServeMux
}

// New returns the web view's handler. It answers GET and HEAD only.
func New(opts Options) http.Handler {
	d := DefaultOptions()
	if opts.Now == nil {
		opts.Now = d.Now
	}
	if opts.Title == "" {
		opts.Title = d.Title
	}
	if opts.MaxLogBytes <= 0 {
		opts.MaxLogBytes = d.MaxLogBytes
	}
	s := &server{opts: opts, mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /{$}", s.fleetPage)
	s.mux.HandleFunc("GET /cronjobs/{ns}/{name}", s.cronJobPage)
	s.mux.HandleFunc("GET /cronjobs/{ns}/{name}/runs/{job}/logs", s.logsPage)
	s.mux.HandleFunc("GET /schedule", s.schedulePage)
	s.mux.HandleFunc("GET /schedule.svg", s.scheduleSVG)
	s.mux.HandleFunc("GET /schedule.png", s.schedulePNG)
	s.mux.HandleFunc("GET /revision", s.revisionPage)
	return s
}

// contentPolicy lets the pages use their inline CSS and nothing else: no
// script runs, no other origin is loaded, forms submit only here, and no
// other site frames them.
const contentPolicy = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", contentPolicy)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "the web view is read-only: GET only", http.StatusMethodNotAllowed)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// page is what the layout reads; Body is the page's own data.
type page struct {
	Title string
	Nav   string
	Now   time.Time
	Body  any
}

// render executes the named page into a buffer first, so that a template
// error is a clean 500 and not half a page.
func (s *server) render(w http.ResponseWriter, name, nav string, body any) {
	var b bytes.Buffer
	b.Grow(64 << 10)
	p := page{Title: s.opts.Title, Nav: nav, Now: s.opts.Now(), Body: body}
	if err := pages()[name].Execute(&b, p); err != nil {
		http.Error(w, fmt.Sprintf("page %s: %v", name, err), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b.Bytes()) // the client went away; nothing to tell it
}

// revision returns the agent's revision, or a zero one.
func (s *server) revision() Revision {
	if s.opts.Revision == nil {
		return Revision{}
	}
	return s.opts.Revision()
}
