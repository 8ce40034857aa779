package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jobsync/jobsync/internal/procstat"
)

// cpuTime is the CPU time (user + system) this process has used so far: on
// a loaded machine it says what a page costs better than the wall clock.
func cpuTime(b *testing.B) time.Duration {
	d, err := procstat.CPUTime()
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkFleetPage5000 is the server side of the fleet page of 5,000
// CronJobs (target: ≤ 200 ms).
func BenchmarkFleetPage5000(b *testing.B) {
	h := New(testOptions(genFleet(fleetSize)))
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	var size int
	cpu0 := cpuTime(b)
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("GET /: %d", rec.Code)
		}
		size = rec.Body.Len()
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/page")
	b.ReportMetric(float64((cpuTime(b)-cpu0).Milliseconds())/float64(b.N), "cpu-ms/page")
	b.ReportMetric(float64(size)/1e6, "MB/page")
}

// BenchmarkSchedulePage5000 is the server side of the schedule page (the
// heat map of a week of 5,000 CronJobs).
func BenchmarkSchedulePage5000(b *testing.B) {
	h := New(testOptions(genFleet(fleetSize)))
	req := httptest.NewRequest(http.MethodGet, "/schedule?cell=0-2", nil)
	cpu0 := cpuTime(b)
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("GET /schedule: %d", rec.Code)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/page")
	b.ReportMetric(float64((cpuTime(b)-cpu0).Milliseconds())/float64(b.N), "cpu-ms/page")
}

// BenchmarkBrowserFleetPage5000 is the browser side of the fleet page of
// 5,000 CronJobs (target: ≤ 1.5 s): headless Chromium's --dump-dom of the
// page (it returns once the page is loaded and laid out) less its
// --dump-dom of a blank page (the browser's start and stop), both over the
// same loopback server. Run it with -benchtime=3x.
func BenchmarkBrowserFleetPage5000(b *testing.B) {
	bin := chromium(b)
	srv := startServer(b, fleetSize)
	var page, blank, pageCPU, blankCPU time.Duration
	for b.Loop() {
		t0 := time.Now()
		_, c0 := runChromiumCPU(b, bin, "--dump-dom", srv.URL+"/revision") // a small page: start-up and teardown
		t1 := time.Now()
		_, c1 := runChromiumCPU(b, bin, "--dump-dom", srv.URL+"/")
		page += time.Since(t1)
		blank += t1.Sub(t0)
		pageCPU += c1
		blankCPU += c0
	}
	n := time.Duration(b.N)
	ms := func(d time.Duration) float64 { return float64(d/n) / 1e6 }
	b.ReportMetric(ms(page-blank), "render-ms")
	b.ReportMetric(ms(pageCPU-blankCPU), "render-cpu-ms")
	b.ReportMetric(ms(page), "page-ms")
	b.ReportMetric(ms(blank), "blank-ms")
}
