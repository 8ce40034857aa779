package web

import (
	"bytes"
	"context"
	"flag"
	"image"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	chromiumFlag   = flag.String("chromium", "chromium", "the headless browser the page tests run (Debian's chromium)")
	screenshotsDir = flag.String("screenshots", "", "keep the browser tests' screenshots in this directory")
)

// fleetSize is the fleet the browser tests and benchmarks serve.
const fleetSize = 5000

// chromium returns the browser's path; the tests need it (.ci/run installs
// Debian's chromium package).
func chromium(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath(*chromiumFlag)
	if err != nil {
		t.Fatalf("%s: %v: install it (apt-get install chromium) or pass -chromium PATH", *chromiumFlag, err)
	}
	return p
}

// runChromium runs headless Chromium once with args and returns its stdout.
func runChromium(t testing.TB, bin string, args ...string) []byte {
	t.Helper()
	out, _ := runChromiumCPU(t, bin, args...)
	return out
}

// runChromiumCPU is runChromium that also returns the CPU time (user and
// system) of the browser's processes.
func runChromiumCPU(t testing.TB, bin string, args ...string) ([]byte, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--hide-scrollbars", "--user-data-dir=" + t.TempDir(), "--window-size=1400,1000"}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.Bytes(), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// colour is an sRGB colour a screenshot must show at least Min pixels of.
type colour struct {
	Name    string
	R, G, B uint8
	Min     int
}

var (
	failingRed  = colour{Name: "Failing badge red #c62828", R: 0xc6, G: 0x28, B: 0x28, Min: 200}
	healthyGrn  = colour{Name: "Healthy badge green #2e7d32", R: 0x2e, G: 0x7d, B: 0x32, Min: 100}
	headerBlue  = colour{Name: "header #1d2b3a", R: 0x1d, G: 0x2b, B: 0x3a, Min: 10000}
	runGreen    = colour{Name: "succeeded run green #43a047", R: 0x43, G: 0xa0, B: 0x47, Min: 200}
	peakBlue    = colour{Name: "busiest heat map cell #08306b", R: 0x08, G: 0x30, B: 0x6b, Min: 300}
	logBlack    = colour{Name: "log background #0f1720", R: 0x0f, G: 0x17, B: 0x20, Min: 5000}
	missedOrang = colour{Name: "Missed badge orange #ef6c00", R: 0xef, G: 0x6c, B: 0x00, Min: 50}
)

// countColour counts the pixels of img within 6 of c on each channel.
func countColour(img image.Image, c colour) int {
	n := 0
	b := img.Bounds()
	near := func(a uint32, v uint8) bool { d := int(a>>8) - int(v); return d >= -6 && d <= 6 }
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r, c.R) && near(g, c.G) && near(bl, c.B) {
				n++
			}
		}
	}
	return n
}

// browserCase is one page as the browser must show it.
type browserCase struct {
	name, path string
	// dom are patterns the rendered DOM must match at least count times.
	dom []domCheck
	// colours must be in the screenshot.
	colours []colour
}

type domCheck struct {
	re    *regexp.Regexp
	count int
}

func dom(pattern string, count int) domCheck {
	return domCheck{re: regexp.MustCompile(pattern), count: count}
}

var browserCases = []browserCase{
	{name: "fleet", path: "/", dom: []domCheck{
		dom(`<table id="fleet">`, 1), dom(`<tr><td><a href="/cronjobs/team-\d/job-\d{5}">`, fleetSize),
		dom(`<span class="badge h-failing"[^>]*>Failing</span>`, 417), dom(`<svg class="spark" width="80" height="16">`, fleetSize),
		dom(`id="findings"`, 1), dom(`4f1c2d3e4f1c`, 1),
	}, colours: []colour{failingRed, healthyGrn, headerBlue, missedOrang}},
	{name: "fleet-filtered", path: "/?health=Missed&sort=name&desc=1", dom: []domCheck{
		dom(`<tr><td><a href="/cronjobs/`, 140), dom(`Name ▼`, 1),
	}, colours: []colour{missedOrang}},
	{name: "cronjob", path: "/cronjobs/team-0/job-00000", dom: []domCheck{
		dom(`<svg id="timeline"`, 1), dom(`<rect class="r-fail"`, 2), dom(`<rect class="r-ok"`, 20),
		dom(`<rect class="skew"`, 40), dom(`apps/team-0/cronjobs.yaml:1<`, 1), dom(`>logs</a>`, 40),
	}, colours: []colour{failingRed, runGreen, headerBlue}},
	{name: "logs", path: "/cronjobs/team-0/job-00000/runs/job-00000-29549039/logs", dom: []domCheck{
		dom(`&lt;script&gt;alert\(1\)&lt;/script&gt;`, 1),
	}, colours: []colour{logBlack}},
	{name: "schedule", path: "/schedule?tz=UTC&week=2027-03-08&cell=0-0", dom: []domCheck{
		dom(`<rect class="cell"`, 7*24), dom(`<table id="cell-cronjobs">`, 1), dom(`<td><a href="/cronjobs/`, 900),
	}, colours: []colour{peakBlue, headerBlue}},
	{name: "revision", path: "/revision", dom: []domCheck{
		dom(`apps/team-3/cronjobs.yaml:42`, 1), dom(`<table id="changes">`, 1), dom(`image-tag-mutable`, 1),
	}, colours: []colour{failingRed, headerBlue}},
}

// TestBrowserPages loads each page of a 5,000-CronJob fleet in headless
// Chromium: the rendered DOM holds the expected elements, the screenshot the
// expected colours, and tidy finds the served HTML valid.
func TestBrowserPages(t *testing.T) {
	bin := chromium(t)
	srv := startServer(t, fleetSize)
	shots := *screenshotsDir
	if shots == "" {
		shots = t.TempDir()
	}
	for _, tc := range browserCases {
		t.Run(tc.name, func(t *testing.T) {
			u := srv.URL + tc.path
			assertValidHTML(t, fetch(t, u))
			got := string(runChromium(t, bin, "--dump-dom", u))
			for _, c := range tc.dom {
				if n := len(c.re.FindAllStringIndex(got, -1)); n < c.count {
					t.Errorf("rendered DOM: %d matches of %s, want at least %d", n, c.re, c.count)
				}
			}
			shot := filepath.Join(shots, tc.name+".png")
			runChromium(t, bin, "--screenshot="+shot, u)
			img := decodePNG(t, shot)
			for _, c := range tc.colours {
				if n := countColour(img, c); n < c.Min {
					t.Errorf("screenshot %s: %d pixels of %s, want at least %d", shot, n, c.Name, c.Min)
				}
			}
		})
	}
}

func fetch(t testing.TB, u string) []byte {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", u, resp.StatusCode, err)
	}
	return body
}

func decodePNG(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}
