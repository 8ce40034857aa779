package web

import (
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/jobsync/jobsync/fleet"
	"github.com/jobsync/jobsync/schedule"
)

// Objects is what ObjectsView reads: a target's CronJobs and Jobs (the
// embedded runtime has them).
type Objects interface {
	CronJobs() []batchv1.CronJob
	Jobs() []batchv1.Job
}

// ObjectsView is a fleet.View over the CronJobs and Jobs a target still
// holds, until a run ledger keeps runs past their Jobs' deletion: the runs
// are the CronJobs' Jobs that exist, the health is Suspended, Failing (the
// newest finished Job failed) or Healthy (Late and Missed need the ledger).
func ObjectsView(src Objects, now func() time.Time) fleet.View {
	return objectsView{src: src, now: now}
}

type objectsView struct {
	src Objects
	now func() time.Time
}

// annotationInstantiate marks a Job made by hand from a CronJob (kubectl
// create job --from, jobsync trigger).
const annotationInstantiate = "cronjob.kubernetes.io/instantiate"

func (v objectsView) CronJobs() []fleet.CronJob {
	runs := v.runsByCronJob()
	cjs := v.src.CronJobs()
	out := make([]fleet.CronJob, 0, len(cjs))
	for i := range cjs {
		out = append(out, v.cronJob(&cjs[i], runs[cjs[i].Namespace+"/"+cjs[i].Name]))
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Namespace < out[j].Namespace || (out[i].Namespace == out[j].Namespace && out[i].Name < out[j].Name)
	})
	return out
}

func (v objectsView) CronJob(namespace, name string) (fleet.CronJob, bool) {
	for _, cj := range v.src.CronJobs() {
		if cj.Namespace == namespace && cj.Name == name {
			return v.cronJob(&cj, v.runsByCronJob()[namespace+"/"+name]), true
		}
	}
	return fleet.CronJob{}, false
}

func (v objectsView) Runs(namespace, name string, limit int) []fleet.Run {
	rs := v.runsByCronJob()[namespace+"/"+name]
	slices.Reverse(rs) // newest first
	if limit > 0 && len(rs) > limit {
		rs = rs[:limit]
	}
	return rs
}

// runsByCronJob returns the runs of each CronJob ("namespace/name"), oldest
// first.
func (v objectsView) runsByCronJob() map[string][]fleet.Run {
	out := map[string][]fleet.Run{}
	for _, j := range v.src.Jobs() {
		owner := ""
		for _, o := range j.OwnerReferences {
			if o.Kind == "CronJob" {
				owner = o.Name
			}
		}
		if owner != "" {
			key := j.Namespace + "/" + owner
			out[key] = append(out[key], runOf(&j, owner))
		}
	}
	for _, rs := range out {
		sort.Slice(rs, func(a, b int) bool { return rs[a].Start.Before(rs[b].Start) })
	}
	return out
}

// runOf reads a Job as a run: its conditions say how it ended.
func runOf(j *batchv1.Job, cronJob string) fleet.Run {
	r := fleet.Run{Namespace: j.Namespace, CronJob: cronJob, Job: j.Name, Trigger: fleet.TriggerScheduled,
		Start: j.CreationTimestamp.Time, Result: fleet.ResultRunning}
	if ts, ok := j.Annotations[batchv1.CronJobScheduledTimestampAnnotation]; ok {
		r.Scheduled, _ = time.Parse(time.RFC3339, ts) // unreadable: no skew shown
	}
	if j.Annotations[annotationInstantiate] == "manual" {
		r.Trigger, r.Scheduled = fleet.TriggerManual, time.Time{}
	}
	for _, c := range j.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			r.Result, r.End = fleet.ResultSucceeded, c.LastTransitionTime.Time
		case batchv1.JobFailed:
			r.Result, r.End, r.Reason = fleet.ResultFailed, c.LastTransitionTime.Time, c.Reason
		}
	}
	if r.End.IsZero() && j.Status.CompletionTime != nil {
		r.End = j.Status.CompletionTime.Time
	}
	return r
}

// cronJob reads a CronJob with its runs (oldest first).
func (v objectsView) cronJob(cj *batchv1.CronJob, runs []fleet.Run) fleet.CronJob {
	c := fleet.CronJob{Namespace: cj.Namespace, Name: cj.Name, Labels: cj.Labels, Schedule: cj.Spec.Schedule,
		Suspend: cj.Spec.Suspend != nil && *cj.Spec.Suspend, Health: fleet.Health{State: fleet.StateHealthy}}
	if cj.Spec.TimeZone != nil {
		c.TimeZone = *cj.Spec.TimeZone
	}
	var lastFailed *fleet.Run
	for i := range runs {
		r := &runs[i]
		switch r.Result {
		case fleet.ResultSucceeded:
			c.LastResult, c.LastSuccess, lastFailed = r.Result, r.End, nil
		case fleet.ResultFailed:
			c.LastResult, c.LastFailure, lastFailed = r.Result, r.End, r
		}
	}
	c.Recent = runs[max(0, len(runs)-20):]
	switch {
	case c.Suspend:
		c.Health = fleet.Health{State: fleet.StateSuspended, SuspendedBy: "git"}
	case lastFailed != nil:
		c.Health = fleet.Health{State: fleet.StateFailing, Reason: lastFailed.Reason, Since: lastFailed.End}
	}
	if !c.Suspend {
		if sched, err := schedule.Parse(c.Schedule); err == nil {
			if loc, err := schedule.LoadLocation(cj.Spec.TimeZone); err == nil {
				c.Next = schedule.Next(sched, loc, v.now())
			}
		}
	}
	return c
}

// Pods is what PodLogs reads: a target's pods and their log files (the
// embedded runtime has them).
type Pods interface {
	Pods() []corev1.Pod
	LogPaths(namespace, pod string) (map[string]string, error)
}

// PodLogs returns an Options.Logs that reads the log files of a Job's pods
// while they exist.
func PodLogs(src Pods) func(namespace, job string) ([]LogSource, error) {
	return func(namespace, job string) ([]LogSource, error) {
		var out []LogSource
		for _, p := range src.Pods() {
			if p.Namespace != namespace || !ownedByJob(&p, job) {
				continue
			}
			paths, err := src.LogPaths(namespace, p.Name)
			if err != nil {
				return nil, err
			}
			names := make([]string, 0, len(paths))
			for c := range paths {
				names = append(names, c)
			}
			sort.Strings(names)
			for _, c := range names {
				path := paths[c]
				out = append(out, LogSource{Name: p.Name + "/" + c, Open: func() (io.ReadCloser, error) { return os.Open(path) }})
			}
		}
		return out, nil
	}
}

func ownedByJob(p *corev1.Pod, job string) bool {
	for _, o := range p.OwnerReferences {
		if o.Kind == "Job" && o.Name == job {
			return true
		}
	}
	return strings.TrimSpace(p.Labels["batch.kubernetes.io/job-name"]) == job
}
