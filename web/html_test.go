package web

import (
	"bytes"
	"errors"
	"flag"
	"net/http"
	"os/exec"
	"strings"
	"testing"
)

var tidyFlag = flag.String("tidy", "tidy", "the HTML checker of the page tests (Debian's tidy)")

// tidyKnownGaps are warnings of tidy 5.6 about valid HTML: it does not know
// SVG's <a href> (the heat map's clickable cells).
var tidyKnownGaps = []string{`Warning: <a> proprietary attribute "href"`}

// htmlProblems runs tidy on page and returns its errors and warnings, less
// the known gaps.
func htmlProblems(t testing.TB, page []byte) []string {
	t.Helper()
	bin, err := exec.LookPath(*tidyFlag)
	if err != nil {
		t.Fatalf("%s: %v: install it (apt-get install tidy) or pass -tidy PATH", *tidyFlag, err)
	}
	cmd := exec.Command(bin, "-errors", "-quiet", "--gnu-emacs", "yes")
	cmd.Stdin = bytes.NewReader(page)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	if ee := (*exec.ExitError)(nil); err != nil && !errors.As(err, &ee) {
		t.Fatalf("tidy: %v", err)
	}
	var problems []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if line == "" || strings.Contains(line, "This document has errors") || strings.Contains(line, "using HTML Tidy") {
			continue
		}
		known := false
		for _, g := range tidyKnownGaps {
			known = known || strings.Contains(line, g)
		}
		if !known {
			problems = append(problems, line)
		}
	}
	return problems
}

// assertValidHTML fails the test when tidy finds a problem in page.
func assertValidHTML(t testing.TB, page []byte) {
	t.Helper()
	if ps := htmlProblems(t, page); len(ps) > 0 {
		if len(ps) > 10 {
			ps = append(ps[:10], "...")
		}
		t.Errorf("invalid HTML:\n%s", strings.Join(ps, "\n"))
	}
}

// TestTidyCatches makes sure the checker fails on what it must.
func TestTidyCatches(t *testing.T) {
	tests := []struct{ name, body string }{
		{"stray end tag", `<div><p>a</span></div>`},
		{"unknown element", `<blink2>x</blink2>`},
		{"duplicate id", `<p id="a">1</p><p id="a">2</p>`},
		{"repeated attribute", `<a href="/x" href="/y">q</a>`},
		{"unclosed element", `<div><span>x</div>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			page := `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>t</title></head><body>` + tc.body + `</body></html>`
			if ps := htmlProblems(t, []byte(page)); len(ps) == 0 {
				t.Errorf("tidy found nothing wrong in %s", tc.body)
			}
		})
	}
}

// TestPagesValidHTML checks every page, on a small fleet, with tidy (the
// browser test checks them on 5,000 CronJobs).
func TestPagesValidHTML(t *testing.T) {
	o := testOptions(genFleet(40))
	h := New(o)
	o.Revision, o.Logs = nil, nil
	bare := New(o)
	for _, target := range []string{"/", "/?health=Failing&sort=next&desc=1", "/?q=nothing", "/cronjobs/team-0/job-00000",
		"/cronjobs/team-0/job-00000/runs/job-1/logs", "/schedule", "/schedule?tz=Asia/Kolkata&cell=3-14", "/schedule?week=2027-01-04&cell=2-3", "/revision"} {
		t.Run(target, func(t *testing.T) {
			rec := get(t, h, http.MethodGet, target)
			if rec.Code != http.StatusOK {
				t.Fatalf("GET %s: %d", target, rec.Code)
			}
			assertValidHTML(t, rec.Body.Bytes())
			if strings.Contains(target, "/logs") {
				return
			}
			assertValidHTML(t, get(t, bare, http.MethodGet, target).Body.Bytes())
		})
	}
}
