package web

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jobsync/jobsync/fleet"
)

// testNow is the clock of every test page.
var testNow = time.Date(2027, 3, 10, 12, 0, 0, 0, time.UTC)

// memView is a fleet.View over generated CronJobs and runs.
type memView struct {
	crons []fleet.CronJob
	runs  map[string][]fleet.Run // newest first
}

func (v *memView) CronJobs() []fleet.CronJob { return slices.Clone(v.crons) }

func (v *memView) CronJob(ns, name string) (fleet.CronJob, bool) {
	i, ok := slices.BinarySearchFunc(v.crons, ns+"/"+name, func(c fleet.CronJob, key string) int {
		return strings.Compare(c.Namespace+"/"+c.Name, key)
	})
	if !ok {
		return fleet.CronJob{}, false
	}
	return v.crons[i], true
}

func (v *memView) Runs(ns, name string, limit int) []fleet.Run {
	rs := v.runs[ns+"/"+name]
	if limit > 0 && len(rs) > limit {
		rs = rs[:limit]
	}
	return slices.Clone(rs)
}

var (
	// genHours are the hours daily jobs pick: most at night, a pile at 02h.
	genHours   = []int{0, 0, 1, 2, 2, 2, 2, 3, 3, 4, 5, 6, 7, 9, 12, 18, 22, 23}
	genZones   = []string{"", "UTC", "America/New_York", "Europe/Paris", "Asia/Kolkata", "Australia/Sydney"}
	genReasons = []string{"BackoffLimitExceeded", "DeadlineExceeded", "OOMKilled", "exit code 3"}
)

// genFleet makes n CronJobs in 10 namespaces, each with 40 runs; about one in
// twelve is Failing, and a few are Missed, Late or Suspended. The same n
// always gives the same fleet.
func genFleet(n int) *memView {
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	v := &memView{runs: map[string][]fleet.Run{}}
	for i := range n {
		c := fleet.CronJob{Namespace: fmt.Sprintf("team-%d", i%10), Name: fmt.Sprintf("job-%05d", i),
			Labels:   map[string]string{"team": fmt.Sprintf("t%d", i%10), "tier": []string{"batch", "report", "backup"}[i%3]},
			Schedule: genSchedule(i), TimeZone: genZones[i%len(genZones)],
			Origin: fmt.Sprintf("apps/team-%d/cronjobs.yaml:%d", i%10, 1+(i/10)*30)}
		runs := genRuns(rng, c, 40, i%12 == 0)
		c.Recent = slices.Clone(runs[:20])
		slices.Reverse(c.Recent)
		c.LastResult = runs[0].Result
		for _, r := range runs {
			if r.Result == fleet.ResultSucceeded && c.LastSuccess.IsZero() {
				c.LastSuccess = r.End
			}
			if r.Result == fleet.ResultFailed && c.LastFailure.IsZero() {
				c.LastFailure = r.End
			}
		}
		c.Next = testNow.Add(time.Duration(rng.IntN(3600)) * time.Second)
		c.Health = genHealth(i, runs[0])
		if c.Health.State == fleet.StateSuspended {
			c.Suspend, c.Next = true, time.Time{}
		}
		v.crons = append(v.crons, c)
		v.runs[c.Namespace+"/"+c.Name] = runs
	}
	slices.SortFunc(v.crons, func(a, b fleet.CronJob) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	return v
}

// genSchedule gives CronJob i a schedule: a few every 15 minutes or hourly,
// some on weekdays, most daily at a night hour.
func genSchedule(i int) string {
	switch {
	case i%40 == 7:
		return "*/15 * * * *"
	case i%20 == 5:
		return fmt.Sprintf("%d * * * *", i%60)
	case i%9 == 4:
		return fmt.Sprintf("0 %d * * 1-5", 8+i%3)
	case i%50 == 9:
		return "30 2 * * *"
	}
	return fmt.Sprintf("%d %d * * *", (i*7)%60, genHours[i%len(genHours)])
}

// genRuns makes count hourly runs, newest first; the newest fails when
// failing is set.
func genRuns(rng *rand.Rand, c fleet.CronJob, count int, failing bool) []fleet.Run {
	base := time.Duration(30+rng.IntN(600)) * time.Second
	runs := make([]fleet.Run, count)
	for k := range count {
		sched := testNow.Truncate(time.Hour).Add(-time.Duration(k+1) * time.Hour)
		start := sched.Add(time.Duration(rng.IntN(4000)) * time.Millisecond)
		r := fleet.Run{Namespace: c.Namespace, CronJob: c.Name, Job: fmt.Sprintf("%s-%d", c.Name, sched.Unix()/60),
			Trigger: fleet.TriggerScheduled, Scheduled: sched, Start: start,
			End: start.Add(base + time.Duration(rng.IntN(int(base/time.Second)))*time.Second), Result: fleet.ResultSucceeded}
		if (failing && k == 0) || rng.IntN(15) == 0 {
			r.Result, r.Reason = fleet.ResultFailed, genReasons[rng.IntN(len(genReasons))]
		}
		runs[k] = r
	}
	return runs
}

// genHealth picks a CronJob's health from its index and newest run.
func genHealth(i int, newest fleet.Run) fleet.Health {
	switch {
	case i%12 == 0:
		return fleet.Health{State: fleet.StateFailing, Reason: newest.Reason, Since: newest.End}
	case i%31 == 1:
		return fleet.Health{State: fleet.StateMissed, Reason: string(fleet.MissDeadline), Due: testNow.Add(-20 * time.Minute), Since: testNow.Add(-20 * time.Minute)}
	case i%47 == 2:
		return fleet.Health{State: fleet.StateLate, Due: testNow.Add(-3 * time.Minute), Since: testNow.Add(-2 * time.Minute)}
	case i%29 == 3:
		return fleet.Health{State: fleet.StateSuspended, SuspendedBy: "git", Since: testNow.Add(-48 * time.Hour)}
	}
	return fleet.Health{State: fleet.StateHealthy, Since: newest.End}
}

// testRevision is a revision with one change and two findings.
func testRevision() Revision {
	return Revision{
		Attempted: "4f1c2d3e4f1c2d3e4f1c2d3e4f1c2d3e4f1c2d3e", AttemptedAt: testNow.Add(-5 * time.Minute), Stage: "applied",
		Applied: "4f1c2d3e4f1c2d3e4f1c2d3e4f1c2d3e4f1c2d3e", AppliedAt: testNow.Add(-5 * time.Minute),
		Changes: []Change{{Object: "CronJob/team-1/job-00001", Action: "update", Reason: "spec changed", Done: true}},
		Findings: []Finding{
			{File: "apps/team-3/cronjobs.yaml", Line: 42, Object: "CronJob/team-3/job-00003", Severity: "error", Rule: "upstream", Field: "spec.schedule", Message: "unparseable schedule <b>"},
			{File: "apps/team-4/cronjobs.yaml", Line: 7, Object: "CronJob/team-4/job-00004", Severity: "warning", Rule: "image-tag-mutable", Field: "spec.jobTemplate.spec.template.spec.containers[0].image", Message: `image "busybox:latest" uses the :latest tag`},
		},
	}
}

// testOptions are web.New's options over view, with logs for every run.
func testOptions(view fleet.View) Options {
	o := DefaultOptions()
	o.View, o.Now, o.Revision = view, func() time.Time { return testNow }, testRevision
	o.Logs = func(ns, job string) ([]LogSource, error) {
		text := fmt.Sprintf("starting %s/%s\n<script>alert(1)</script>\ndone\n", ns, job)
		return []LogSource{{Name: job + "-abcde/main", Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(text)), nil }}}, nil
	}
	return o
}

// startServer serves web.New over a generated fleet of n CronJobs on loopback.
func startServer(t testing.TB, n int) *httptest.Server {
	srv := httptest.NewServer(New(testOptions(genFleet(n))))
	t.Cleanup(srv.Close)
	return srv
}
