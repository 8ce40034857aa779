package web

import (
	"net/http"
)

// revisionData is the revision page.
type revisionData struct {
	Revision
	Errors, Warnings []Finding
}

func (s *server) revisionPage(w http.ResponseWriter, _ *http.Request) {
	d := revisionData{Revision: s.revision()}
	for _, f := range d.Findings {
		if f.Severity == "error" {
			d.Errors = append(d.Errors, f)
		} else {
			d.Warnings = append(d.Warnings, f)
		}
	}
	s.render(w, "revision", "revision", d)
}
