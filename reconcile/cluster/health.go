package cluster

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/jobsync/jobsync/jobchange"
	"github.com/jobsync/jobsync/reconcile"
)

// State is the health of a Job or CronJob.
type State string

// States. Jobs are Running, Succeeded, Failed, Suspended or Gone; CronJobs
// are Waiting, Healthy, Degraded or Suspended; either may be Missing.
const (
	StateRunning   State = "Running"
	StateSucceeded State = "Succeeded"
	StateFailed    State = "Failed"
	StateSuspended State = "Suspended"
	// StateGone: the Job ran and was deleted since (ttlSecondsAfterFinished or by hand).
	StateGone State = "Gone"
	// StateMissing: a CronJob in the inventory is not in the cluster.
	StateMissing State = "Missing"
	// StateWaiting: a CronJob that was never scheduled yet.
	StateWaiting State = "Waiting"
	// StateHealthy: a CronJob whose most recent finished Job succeeded (or none finished).
	StateHealthy State = "Healthy"
	// StateDegraded: a CronJob whose most recent finished Job failed.
	StateDegraded State = "Degraded"
)

// ObjectHealth is the health of one Job or CronJob of the inventory.
type ObjectHealth struct {
	Ref reconcile.ObjectRef `json:"ref"`
	// Revision is the revision the object was last applied from.
	Revision string `json:"revision,omitempty"`
	State    State  `json:"state"`
	// Reason is the condition reason (BackoffLimitExceeded, ...) when there is one.
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
	// CronJobs only.
	LastScheduleTime   *time.Time `json:"lastScheduleTime,omitempty"`
	LastSuccessfulTime *time.Time `json:"lastSuccessfulTime,omitempty"`
	Active             int        `json:"active,omitempty"`
	// FailedJobs names the CronJob's Jobs that failed and still exist.
	FailedJobs []string `json:"failedJobs,omitempty"`
}

var (
	jobsGVR     = schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}
	cronJobsGVR = schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "cronjobs"}
)

// ErrJobFailed is returned (wrapped) by Wait when a Job of the revision failed.
var ErrJobFailed = errors.New("job failed")

// ErrWaitTimeout is returned (wrapped) by Wait when Jobs are still running at the timeout.
var ErrWaitTimeout = errors.New("timed out waiting for jobs")

// Health reports every Job and CronJob of the inventory, sorted by ref: Jobs
// from their Complete/Failed conditions, CronJobs from lastScheduleTime,
// lastSuccessfulTime and their failed Jobs. One list of Jobs and one of
// CronJobs per namespace.
func (t *Target) Health(ctx context.Context) ([]ObjectHealth, error) {
	recs, err := t.loadRecords(ctx)
	if err != nil {
		return nil, err
	}
	return t.health(ctx, recs, func(record) bool { return true })
}

func (t *Target) health(ctx context.Context, recs records, want func(record) bool) ([]ObjectHealth, error) {
	byNS := map[string][]record{}
	for _, r := range recs.sorted() {
		if (reconcile.IsJob(r.Ref) || reconcile.IsCronJob(r.Ref)) && want(r) {
			byNS[r.Ref.Namespace] = append(byNS[r.Ref.Namespace], r)
		}
	}
	var out []ObjectHealth
	for ns, rs := range byNS {
		jobs, err := t.listJobs(ctx, ns)
		if err != nil {
			return nil, err
		}
		var crons map[string]*batchv1.CronJob
		for _, r := range rs {
			if reconcile.IsJob(r.Ref) {
				out = append(out, jobHealth(r, jobs[r.Ref.Name]))
				continue
			}
			if crons == nil {
				if crons, err = t.listCronJobs(ctx, ns); err != nil {
					return nil, err
				}
			}
			out = append(out, cronJobHealth(r, crons[r.Ref.Name], jobs))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Ref.Key() < out[j].Ref.Key() })
	return out, nil
}

func jobHealth(r record, j *batchv1.Job) ObjectHealth {
	h := ObjectHealth{Ref: r.Ref, Revision: r.Revision}
	if j == nil {
		h.State, h.Message = StateGone, "not in the cluster: it ran and was deleted (ttlSecondsAfterFinished) or was deleted by hand"
		return h
	}
	for _, c := range j.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			h.State, h.Reason, h.Message = StateSucceeded, c.Reason, c.Message
			return h
		case batchv1.JobFailed:
			h.State, h.Reason, h.Message = StateFailed, c.Reason, c.Message
			return h
		}
	}
	if j.Spec.Suspend != nil && *j.Spec.Suspend {
		h.State = StateSuspended
		return h
	}
	h.State, h.Active = StateRunning, int(j.Status.Active)
	return h
}

func cronJobHealth(r record, cj *batchv1.CronJob, jobs map[string]*batchv1.Job) ObjectHealth {
	h := ObjectHealth{Ref: r.Ref, Revision: r.Revision}
	if cj == nil {
		h.State, h.Message = StateMissing, "not in the cluster"
		return h
	}
	h.Active = len(cj.Status.Active)
	if t := cj.Status.LastScheduleTime; t != nil {
		h.LastScheduleTime = &t.Time
	}
	if t := cj.Status.LastSuccessfulTime; t != nil {
		h.LastSuccessfulTime = &t.Time
	}
	var last *batchv1.Job
	var lastAt time.Time
	for _, j := range jobs {
		if !metav1.IsControlledBy(j, cj) {
			continue
		}
		fin := jobchange.FinishedCondition(j)
		if fin == nil {
			continue
		}
		at := fin.LastTransitionTime.Time
		if fin.Type == batchv1.JobFailed {
			h.FailedJobs = append(h.FailedJobs, j.Name)
		}
		if last == nil || at.After(lastAt) {
			last, lastAt = j, at
		}
	}
	sort.Strings(h.FailedJobs)
	switch {
	case cj.Spec.Suspend != nil && *cj.Spec.Suspend:
		h.State = StateSuspended
	case last != nil && jobHealth(r, last).State == StateFailed:
		lh := jobHealth(r, last)
		h.State, h.Reason = StateDegraded, lh.Reason
		h.Message = fmt.Sprintf("its most recent finished Job %s failed: %s", last.Name, lh.Message)
	case h.LastScheduleTime == nil:
		h.State, h.Message = StateWaiting, "not scheduled yet"
	default:
		h.State = StateHealthy
	}
	return h
}

func (t *Target) listJobs(ctx context.Context, ns string) (map[string]*batchv1.Job, error) {
	l, err := t.dyn.Resource(jobsGVR).Namespace(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list Jobs in namespace %s: %w", ns, err)
	}
	out := make(map[string]*batchv1.Job, len(l.Items))
	for i := range l.Items {
		j := &batchv1.Job{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(l.Items[i].Object, j); err != nil {
			return nil, fmt.Errorf("Job/%s/%s: %w", ns, l.Items[i].GetName(), err)
		}
		out[j.Name] = j
	}
	return out, nil
}

func (t *Target) listCronJobs(ctx context.Context, ns string) (map[string]*batchv1.CronJob, error) {
	l, err := t.dyn.Resource(cronJobsGVR).Namespace(ns).List(ctx, metav1.ListOptions{LabelSelector: t.selector()})
	if err != nil {
		return nil, fmt.Errorf("list CronJobs in namespace %s: %w", ns, err)
	}
	out := make(map[string]*batchv1.CronJob, len(l.Items))
	for i := range l.Items {
		cj := &batchv1.CronJob{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(l.Items[i].Object, cj); err != nil {
			return nil, fmt.Errorf("CronJob/%s/%s: %w", ns, l.Items[i].GetName(), err)
		}
		out[cj.Name] = cj
	}
	return out, nil
}

// Wait waits up to timeout until every Job applied at revision ("" = every
// Job of the inventory) has finished (or is gone; suspended Jobs are not
// waited for), and returns their health. It fails with ErrJobFailed when one
// failed and with ErrWaitTimeout when some still run at the timeout.
func (t *Target) Wait(ctx context.Context, revision string, timeout time.Duration) ([]ObjectHealth, error) {
	recs, err := t.loadRecords(ctx)
	if err != nil {
		return nil, err
	}
	want := func(r record) bool { return reconcile.IsJob(r.Ref) && (revision == "" || r.Revision == revision) }
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		hs, err := t.health(ctx, recs, want)
		if err != nil && ctx.Err() == nil {
			return hs, err
		}
		var running, failedJobs []string
		for _, h := range hs {
			switch h.State {
			case StateRunning:
				running = append(running, h.Ref.String())
			case StateFailed:
				failedJobs = append(failedJobs, fmt.Sprintf("%s (%s)", h.Ref, h.Reason))
			}
		}
		if err == nil && len(running) == 0 {
			if len(failedJobs) > 0 {
				return hs, fmt.Errorf("%w: %s", ErrJobFailed, strings.Join(failedJobs, ", "))
			}
			return hs, nil
		}
		if serr := t.sleep(ctx, t.opts.PollInterval); serr != nil {
			return hs, fmt.Errorf("%w after %s: still running: %s", ErrWaitTimeout, timeout, strings.Join(running, ", "))
		}
	}
}
