package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/jobsync/jobsync/fleet"
)

// historyRuns is how many runs the CronJob page shows.
const historyRuns = 100

// cronJobData is the CronJob page.
type cronJobData struct {
	C         fleet.CronJob
	Zone      string
	Runs      []runRow
	Timeline  timeline
	Durations durations
	Failures  int
	HasLogs   bool
}

// runRow is one run as the history table prints it.
type runRow struct {
	fleet.Run
	Skew, Duration string
	LogsHref       string
}

func (s *server) cronJobPage(w http.ResponseWriter, r *http.Request) {
	ns, name := r.PathValue("ns"), r.PathValue("name")
	c, ok := s.opts.View.CronJob(ns, name)
	if !ok {
		http.Error(w, fmt.Sprintf("CronJob %s/%s: not found", ns, name), http.StatusNotFound)
		return
	}
	now := s.opts.Now()
	runs := s.opts.View.Runs(ns, name, historyRuns)
	d := cronJobData{C: c, Zone: zoneOf(c), Timeline: newTimeline(runs, now), Durations: newDurations(runs), HasLogs: s.opts.Logs != nil}
	for _, run := range runs {
		row := runRow{Run: run, Skew: human(run.Skew()), Duration: "running"}
		if !run.End.IsZero() {
			row.Duration = human(run.Duration())
		}
		if run.Result == fleet.ResultFailed {
			d.Failures++
		}
		if d.HasLogs {
			row.LogsHref = cronPath(ns, name) + "/runs/" + url.PathEscape(run.Job) + "/logs"
		}
		d.Runs = append(d.Runs, row)
	}
	s.render(w, "cronjob", "fleet", d)
}

// logsData is the logs page of one run.
type logsData struct {
	Namespace, CronJob, Job string
	Href                    string
	Streams                 []logStream
}

// logStream is one container's log, or why it cannot be read.
type logStream struct {
	Name, Text, Err string
	Truncated       bool
}

func (s *server) logsPage(w http.ResponseWriter, r *http.Request) {
	ns, name, job := r.PathValue("ns"), r.PathValue("name"), r.PathValue("job")
	if s.opts.Logs == nil {
		http.Error(w, "this target keeps no run logs", http.StatusNotFound)
		return
	}
	if _, ok := s.opts.View.CronJob(ns, name); !ok {
		http.Error(w, fmt.Sprintf("CronJob %s/%s: not found", ns, name), http.StatusNotFound)
		return
	}
	srcs, err := s.opts.Logs(ns, job)
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, os.ErrNotExist) {
			code = http.StatusNotFound
		}
		http.Error(w, fmt.Sprintf("Job %s/%s: logs: %v", ns, job, err), code)
		return
	}
	d := logsData{Namespace: ns, CronJob: name, Job: job, Href: cronPath(ns, name)}
	for _, src := range srcs {
		d.Streams = append(d.Streams, readLog(src, s.opts.MaxLogBytes))
	}
	s.render(w, "logs", "fleet", d)
}

// readLog reads the last limit bytes of one log.
func readLog(src LogSource, limit int64) logStream {
	ls := logStream{Name: src.Name}
	rc, err := src.Open()
	if err != nil {
		ls.Err = err.Error()
		return ls
	}
	defer rc.Close()
	var tail tailBuffer
	tail.limit = int(limit)
	// A log file is read from its last limit bytes on, not copied whole
	// through the tail buffer: a peer asking for a 1 GiB log costs a read of
	// limit bytes.
	if s, ok := rc.(io.Seeker); ok && limit > 0 {
		if end, err := s.Seek(0, io.SeekEnd); err == nil {
			start := max(0, end-limit)
			if _, err := s.Seek(start, io.SeekStart); err == nil {
				tail.dropped = start > 0
			}
		}
	}
	if _, err := io.Copy(&tail, rc); err != nil {
		ls.Err = err.Error()
	}
	ls.Text, ls.Truncated = strings.ToValidUTF8(string(tail.buf), "\uFFFD"), tail.dropped
	return ls
}

// tailBuffer keeps the last limit bytes written to it.
type tailBuffer struct {
	buf     []byte
	limit   int
	dropped bool
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.limit; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
		t.dropped = true
	}
	return n, nil
}
