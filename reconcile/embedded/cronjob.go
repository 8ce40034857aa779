package embedded

import (
	"fmt"
	"sort"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/jobsync/jobsync/jobchange"
	"github.com/jobsync/jobsync/schedule"
)

// ReasonReplaced ends the run of a Job that concurrencyPolicy Replace
// deleted while it ran (RunObserver.RunFinished, failed).
const ReasonReplaced = "Replaced"

// syncCronJob is one pass of the CronJob controller over one CronJob
// (syncCronJob upstream; docs/batch-semantics.md#cronjob-controller): history cleanup, the active list, then at most one new Job for the
// most recent unmet schedule time. It returns when to sync again.
func (e *Engine) syncCronJob(b *batch, key string) (time.Time, bool) {
	cj, err := e.cache.cronJob(key)
	if err != nil {
		b.fail(err)
		return time.Time{}, false
	}
	if cj == nil {
		return time.Time{}, false
	}
	changed := e.cleanupFinishedJobs(b, cj)
	if e.trackActive(b, cj) {
		changed = true
	}
	at, ok, fired := e.syncSchedule(b, cj)
	if changed || fired {
		e.putCronJob(b, cj)
	}
	return at, ok
}

// cleanupFinishedJobs deletes the oldest finished Jobs beyond the history
// limits (succeeded and failed counted apart, oldest by start time first).
func (e *Engine) cleanupFinishedJobs(b *batch, cj *batchv1.CronJob) bool {
	if cj.Spec.SuccessfulJobsHistoryLimit == nil && cj.Spec.FailedJobsHistoryLimit == nil {
		return false
	}
	var succeeded, failed []jobInfo
	for _, j := range e.cache.jobsOf(cj.UID) {
		switch j.Finished {
		case batchv1.JobComplete:
			succeeded = append(succeeded, j)
		case batchv1.JobFailed:
			failed = append(failed, j)
		}
	}
	changed := false
	for _, g := range []struct {
		jobs  []jobInfo
		limit *int32
	}{{succeeded, cj.Spec.SuccessfulJobsHistoryLimit}, {failed, cj.Spec.FailedJobsHistoryLimit}} {
		if g.limit == nil || len(g.jobs) <= int(*g.limit) {
			continue
		}
		sortByStartTime(g.jobs)
		for _, j := range g.jobs[:len(g.jobs)-int(*g.limit)] {
			e.deleteJob(b, j.Key, "history limit")
			deleteFromActive(cj, j.UID)
			b.event(KindCronJob, cj.Namespace, cj.Name, EventNormal, ReasonSuccessfulDelete, "Deleted job "+j.Name)
			changed = true
		}
	}
	return changed
}

// sortByStartTime orders Jobs by status.startTime (unset last), then name.
func sortByStartTime(js []jobInfo) {
	sort.SliceStable(js, func(i, k int) bool {
		a, c := js[i].Start, js[k].Start
		switch {
		case a == nil && c != nil:
			return false
		case a != nil && c == nil:
			return true
		case a == nil || a.Equal(c):
			return js[i].Name < js[k].Name
		}
		return a.Before(c)
	})
}

// trackActive keeps status.active true: finished Jobs leave it (and set
// lastSuccessfulTime), Jobs that no longer exist leave it.
func (e *Engine) trackActive(b *batch, cj *batchv1.CronJob) bool {
	changed := false
	children := map[types.UID]bool{}
	for _, j := range e.cache.jobsOf(cj.UID) {
		children[j.UID] = true
		if j.Finished == "" {
			continue
		}
		if inActive(cj, j.UID) {
			deleteFromActive(cj, j.UID)
			b.event(KindCronJob, cj.Namespace, cj.Name, EventNormal, ReasonSawCompletedJob,
				fmt.Sprintf("Saw completed job: %s, condition: %s", j.Name, j.Finished))
			changed = true
		}
		if j.Finished == batchv1.JobComplete && j.Completion != nil {
			if last := cj.Status.LastSuccessfulTime; last == nil || j.Completion.After(last.Time) {
				cj.Status.LastSuccessfulTime = j.Completion.DeepCopy()
				changed = true
			}
		}
	}
	for _, a := range append([]corev1.ObjectReference(nil), cj.Status.Active...) {
		if children[a.UID] {
			continue
		}
		b.event(KindCronJob, cj.Namespace, cj.Name, EventNormal, ReasonMissingJob, "Active job went missing: "+a.Name)
		deleteFromActive(cj, a.UID)
		changed = true
	}
	return changed
}

// syncSchedule creates the Job for the most recent unmet schedule time, if
// any and if the concurrency policy allows. fired reports a status change.
func (e *Engine) syncSchedule(b *batch, cj *batchv1.CronJob) (at time.Time, ok, fired bool) {
	warn := func(reason, msg string) { b.event(KindCronJob, cj.Namespace, cj.Name, EventWarning, reason, msg) }
	loc, err := schedule.LoadLocation(cj.Spec.TimeZone)
	if err != nil {
		warn(ReasonUnknownTimeZone, fmt.Sprintf("invalid timeZone: %q: %s", ptr.Deref(cj.Spec.TimeZone, ""), err))
		return at, false, false
	}
	if ptr.Deref(cj.Spec.Suspend, false) {
		return at, false, false
	}
	sched, err := e.schedule(cj.Spec.Schedule)
	if err != nil {
		warn(ReasonUnparseableSchedule, fmt.Sprintf("unparseable schedule: %q : %s", cj.Spec.Schedule, err))
		return at, false, false
	}
	now := b.now.In(loc)
	u, err := mostRecentScheduleTime(cj, now, sched, true)
	if err != nil {
		warn(ReasonInvalidSchedule, fmt.Sprintf("invalid schedule: %s : %s", cj.Spec.Schedule, err))
		return at, false, false
	}
	requeue := func() (time.Time, bool, bool) {
		t, ok := nextRequeue(cj, now, sched)
		return t, ok, fired
	}
	if u.Time.IsZero() {
		return requeue()
	}
	if u.TooMany {
		warn(ReasonTooManyMissedTimes, "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew")
	}
	scheduled := u.Time
	if sds := cj.Spec.StartingDeadlineSeconds; sds != nil && scheduled.Add(time.Duration(*sds)*time.Second).Before(now) {
		warn(ReasonMissSchedule, "Missed scheduled time to start a job: "+scheduled.UTC().Format(time.RFC1123Z))
		return requeue()
	}
	name := jobName(cj, scheduled)
	if inActiveByName(cj, name) || (cj.Status.LastScheduleTime != nil && cj.Status.LastScheduleTime.Equal(&metav1.Time{Time: scheduled})) {
		return requeue()
	}
	switch cj.Spec.ConcurrencyPolicy {
	case batchv1.ForbidConcurrent:
		if len(cj.Status.Active) > 0 {
			// lastScheduleTime stays: the slot may still start late, when the
			// active Job ends, if that is within startingDeadlineSeconds.
			b.event(KindCronJob, cj.Namespace, cj.Name, EventNormal, ReasonJobAlreadyActive,
				"Not starting job because prior execution is running and concurrency policy is Forbid")
			return requeue()
		}
	case batchv1.ReplaceConcurrent:
		for _, a := range cj.Status.Active {
			if j := e.cache.jobs[Key(a.Namespace, a.Name)]; j != nil && jobchange.FinishedType(j) == "" {
				// its run ends here: the ledger must not keep it Running
				e.observeFinished(&jobState{job: j}, batchv1.JobFailed, ReasonReplaced, b.now)
			}
			e.deleteJob(b, Key(a.Namespace, a.Name), "replaced by the next scheduled run (concurrencyPolicy Replace)")
			b.event(KindCronJob, cj.Namespace, cj.Name, EventNormal, ReasonSuccessfulDelete, "Deleted job "+a.Name)
		}
		cj.Status.Active = nil
		fired = true
	}
	key := Key(cj.Namespace, name)
	info, owners, exists := e.cache.jobInfo(key)
	switch {
	case !exists:
		info = infoOf(key, e.createJob(b, jobFromCronJob(cj, name, scheduled.In(loc))))
		b.event(KindCronJob, cj.Namespace, cj.Name, EventNormal, ReasonSuccessfulCreate, "Created job "+name)
		e.observeScheduled(cj.Namespace, cj.Name, scheduled, b.now)
		e.observeStarted(cj.Namespace, cj.Name, name, scheduled, b.now)
	case controllerUID(owners) != cj.UID || inActive(cj, info.UID):
		// AlreadyExists is not an error: another actor made it, or we did.
		return requeue()
	}
	if info.Finished == "" {
		// A finished Job of the slot (AlreadyExists) is not active any more.
		cj.Status.Active = append(cj.Status.Active, info.ref())
	}
	cj.Status.LastScheduleTime = mtp(scheduled)
	fired = true
	return requeue()
}

// jobName is the deterministic name of the Job for a scheduled time: the
// CronJob's name and the time in minutes since the epoch.
func jobName(cj *batchv1.CronJob, scheduled time.Time) string {
	return fmt.Sprintf("%s-%d", cj.Name, scheduled.Unix()/60)
}

// jobFromCronJob makes the Job of a scheduled run: template labels and
// annotations, the scheduled-timestamp annotation in the CronJob's zone, the
// controller ownerReference and the template's spec.
func jobFromCronJob(cj *batchv1.CronJob, name string, scheduled time.Time) *batchv1.Job {
	j := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{
			Name:            name,
			Namespace:       cj.Namespace,
			Labels:          copyMap(cj.Spec.JobTemplate.Labels),
			Annotations:     copyMap(cj.Spec.JobTemplate.Annotations),
			OwnerReferences: []metav1.OwnerReference{cronJobOwnerRef(cj)},
		},
	}
	if scheduled.IsZero() {
		delete(j.Annotations, batchv1.CronJobScheduledTimestampAnnotation)
	} else {
		if j.Annotations == nil {
			j.Annotations = map[string]string{}
		}
		j.Annotations[batchv1.CronJobScheduledTimestampAnnotation] = scheduled.Format(time.RFC3339)
	}
	cj.Spec.JobTemplate.Spec.DeepCopyInto(&j.Spec)
	return j
}

func cronJobOwnerRef(cj *batchv1.CronJob) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion: "batch/v1", Kind: "CronJob", Name: cj.Name, UID: cj.UID,
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
	}
}

func copyMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func inActive(cj *batchv1.CronJob, uid types.UID) bool {
	for _, a := range cj.Status.Active {
		if a.UID == uid {
			return true
		}
	}
	return false
}

func inActiveByName(cj *batchv1.CronJob, name string) bool {
	for _, a := range cj.Status.Active {
		if a.Name == name && a.Namespace == cj.Namespace {
			return true
		}
	}
	return false
}

func deleteFromActive(cj *batchv1.CronJob, uid types.UID) {
	out := cj.Status.Active[:0]
	for _, a := range cj.Status.Active {
		if a.UID != uid {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		out = nil
	}
	cj.Status.Active = out
}
