package web

import (
	"bytes"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

func TestPages(t *testing.T) {
	h := New(testOptions(genFleet(120)))
	tests := []struct {
		name, target string
		code         int
		want, not    []string
	}{
		{name: "fleet", target: "/", code: 200,
			want: []string{`<table id="fleet">`, "120 CronJobs", `href="/cronjobs/team-0/job-00000"`, "Failing", "<code>4f1c2d3e4f1c</code>", "unparseable schedule &lt;b&gt;"}},
		{name: "fleet filtered by health", target: "/?health=Failing", code: 200,
			want: []string{"job-00012", "10 shown"}, not: []string{`href="/cronjobs/team-1/job-00001"`}},
		{name: "fleet filtered by namespace and label", target: "/?ns=team-3&label=tier%3Dbatch", code: 200,
			want: []string{"job-00003", "4 shown"}, not: []string{"job-00013<"}},
		{name: "fleet sorted by name descending", target: "/?sort=name&desc=1", code: 200, want: []string{"Name ▼"}},
		{name: "cronjob", target: "/cronjobs/team-0/job-00000", code: 200,
			want: []string{`id="timeline"`, `id="durations"`, "apps/team-0/cronjobs.yaml:1", "/runs/job-00000-", "class=\"skew\""}},
		{name: "unknown cronjob", target: "/cronjobs/team-0/nope", code: 404, want: []string{"CronJob team-0/nope: not found"}},
		{name: "logs escaped", target: "/cronjobs/team-0/job-00000/runs/job-00000-1/logs", code: 200,
			want: []string{"starting team-0/job-00000-1", "&lt;script&gt;"}, not: []string{"<script>alert"}},
		{name: "schedule", target: "/schedule?tz=Europe/Paris&week=2027-03-08&cell=0-9", code: 200,
			want: []string{`class="cell"`, "Europe/Paris", `id="cell-cronjobs"`, "Mon 2027-03-08 09:00"}},
		{name: "schedule bad zone", target: "/schedule?tz=Mars/Olympus", code: 400, want: []string{`tz="Mars/Olympus"`}},
		{name: "schedule bad cell", target: "/schedule?cell=9-99", code: 400, want: []string{"want DAY-HOUR"}},
		{name: "schedule svg", target: "/schedule.svg", code: 200, want: []string{"<svg", "Runs starting per hour"}},
		{name: "revision", target: "/revision", code: 200,
			want: []string{"apps/team-3/cronjobs.yaml:42", "image-tag-mutable", "CronJob/team-1/job-00001", "1 error(s), 1 warning(s)"}},
		{name: "unknown page", target: "/nope", code: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := get(t, h, http.MethodGet, tc.target)
			body := rec.Body.String()
			if rec.Code != tc.code {
				t.Fatalf("GET %s: %d, want %d: %.300s", tc.target, rec.Code, tc.code, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET %s: no %q in the page", tc.target, w)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(body, n) {
					t.Errorf("GET %s: %q in the page", tc.target, n)
				}
			}
		})
	}
}

func TestReadOnly(t *testing.T) {
	h := New(testOptions(genFleet(3)))
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		for _, target := range []string{"/", "/schedule", "/revision", "/cronjobs/team-0/job-00000"} {
			if rec := get(t, h, m, target); rec.Code != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %d, want 405", m, target, rec.Code)
			}
		}
	}
	rec := get(t, h, http.MethodHead, "/")
	if rec.Code != http.StatusOK {
		t.Errorf("HEAD /: %d, want 200", rec.Code)
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q: want default-src 'none' (the pages run no script)", csp)
	}
}

func TestNoLogs(t *testing.T) {
	o := testOptions(genFleet(3))
	o.Logs = nil
	h := New(o)
	if rec := get(t, h, http.MethodGet, "/cronjobs/team-0/job-00000/runs/x/logs"); rec.Code != http.StatusNotFound {
		t.Errorf("logs without a Logs func: %d, want 404", rec.Code)
	}
	if body := get(t, h, http.MethodGet, "/cronjobs/team-0/job-00000").Body.String(); strings.Contains(body, "/logs\"") {
		t.Error("the CronJob page links to logs the target does not keep")
	}
}

func TestLogTail(t *testing.T) {
	src := LogSource{Name: "p/c", Open: func() (io.ReadCloser, error) {
		return io.NopCloser(strings.NewReader(strings.Repeat("a", 100) + "END")), nil
	}}
	ls := readLog(src, 10)
	if ls.Text != "aaaaaaaEND" || !ls.Truncated {
		t.Fatalf("tail %q truncated=%v, want the last 10 bytes and truncated", ls.Text, ls.Truncated)
	}
}

func TestSchedulePNG(t *testing.T) {
	rec := get(t, New(testOptions(genFleet(50))), http.MethodGet, "/schedule.png?week=2027-03-08")
	img, err := png.Decode(bytes.NewReader(rec.Body.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != HeatmapWidth || b.Dy() != HeatmapHeight {
		t.Fatalf("png %v, want %dx%d", b, HeatmapWidth, HeatmapHeight)
	}
	// The 00h cells take the daily and hourly jobs: a dark one somewhere on Monday.
	dark := false
	for hr := range 24 {
		r, _, _, _ := img.At(hmLeft+hr*hmCellW+hmCellW/2, hmTop+hmCellH/2).RGBA()
		dark = dark || r>>8 < 0x80
	}
	if !dark {
		t.Error("no busy (dark) cell on Monday")
	}
}
