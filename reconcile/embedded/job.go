package embedded

import (
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/utils/ptr"
)

// jobState is what one sync of a Job works with: the Job (a copy being
// updated) and its pods, counted the way the upstream Job controller counts
// them. Every pod of a Job stays in the store until the Job is deleted, so
// the counters are recounted from the pods at each sync and survive restarts.
type jobState struct {
	job  *batchv1.Job
	pods []*corev1.Pod
	// active: not finished and not being killed.
	active      []*corev1.Pod
	terminating int32
	succeeded   int32
	failed      int32
	// succeededIdx and failedIdx are the Indexed Job's indexes (failedIdx
	// only with backoffLimitPerIndex).
	succeededIdx indexSet
	failedIdx    indexSet
	// cond is the interim terminal condition (FailureTarget or
	// SuccessCriteriaMet) once the Job is decided.
	cond *batchv1.JobCondition
	// due is the earliest time the Job must be synced again.
	due time.Time
}

func (s *jobState) requeueAt(t time.Time) {
	if s.due.IsZero() || t.Before(s.due) {
		s.due = t
	}
}

// syncJob is one pass of the Job controller over one Job (syncJob upstream; docs/batch-semantics.md#job-controller). It
// returns when to sync again (a backoff expiry, a deadline, a TTL, a poll of
// OnFailure restart counts); pod ends and changes queue it too.
func (e *Engine) syncJob(b *batch, key string) (time.Time, bool) {
	cur := e.cache.jobs[key]
	if cur == nil {
		if d := e.cache.done[key]; d != nil {
			return e.syncFinishedJob(b, key, d.ttl, d.finishTime())
		}
		return time.Time{}, false
	}
	if jobFinished(cur) {
		return e.syncFinishedJob(b, key, cur.Spec.TTLSecondsAfterFinished, jobFinishTime(cur))
	}
	if m := cur.Spec.CompletionMode; m != nil && *m != batchv1.NonIndexedCompletion && *m != batchv1.IndexedCompletion {
		return time.Time{}, false
	}
	s := e.newJobState(b, cur.DeepCopy())
	job := s.job
	if job.Status.StartTime == nil && !jobSuspended(job) {
		job.Status.StartTime = mtp(b.now)
	}
	e.evaluateTerminal(b, s)
	if s.cond != nil {
		e.killActive(b, s, s.cond.Type != batchv1.JobSuccessCriteriaMet, "the Job is finishing: "+s.cond.Reason)
	} else {
		e.manageJob(b, s)
		if jobComplete(s) {
			s.cond = newJobCondition(batchv1.JobSuccessCriteriaMet, batchv1.JobReasonCompletionsReached, "Reached expected number of succeeded pods", b.now)
		} else {
			e.suspendCondition(b, s)
		}
	}
	s.setCounters()
	finished := e.finishJob(b, s)
	if !equality.Semantic.DeepEqual(cur.Status, job.Status) {
		e.putJob(b, job)
	}
	if finished {
		e.queueOwner(job.Namespace, job.OwnerReferences, b.now)
		return e.syncFinishedJob(b, key, job.Spec.TTLSecondsAfterFinished, jobFinishTime(job))
	}
	if job.Spec.Template.Spec.RestartPolicy == corev1.RestartPolicyOnFailure && len(s.active) > 0 {
		s.requeueAt(b.now.Add(e.opts.RestartPollInterval))
	}
	return s.due, !s.due.IsZero()
}

// newJobState reads the Job's pods (mirroring the live status of running
// ones) and counts them.
func (e *Engine) newJobState(b *batch, job *batchv1.Job) *jobState {
	s := &jobState{job: job}
	indexed := isIndexed(job)
	completions := int(ptr.Deref(job.Spec.Completions, 0))
	if indexed {
		s.succeededIdx = indexSet{}
	}
	perIndex := indexed && job.Spec.BackoffLimitPerIndex != nil
	if perIndex {
		s.failedIdx = indexSet{}
	}
	failuresByIndex := map[int]int32{}
	for _, p := range e.cache.podsOf(job.UID) {
		if !podTerminal(p) {
			p = e.refreshPod(b, p)
		}
		s.pods = append(s.pods, p)
		ix := completionIndex(p)
		valid := !indexed || (ix >= 0 && ix < completions)
		if p.DeletionTimestamp != nil && !podTerminal(p) {
			s.terminating++
		}
		switch {
		case p.Status.Phase == corev1.PodSucceeded:
			if valid && indexed {
				s.succeededIdx.add(ix)
			} else if valid {
				s.succeeded++
			}
		case isPodFailed(p, job):
			if !valid || !podCounted(p) {
				continue
			}
			_, count, action := matchPodFailurePolicy(job.Spec.PodFailurePolicy, p)
			if count {
				s.failed++
				failuresByIndex[ix]++
			}
			if perIndex && action != nil && *action == batchv1.PodFailurePolicyActionFailIndex {
				s.failedIdx.add(ix)
			}
		case p.DeletionTimestamp == nil:
			s.active = append(s.active, p)
		}
	}
	if indexed {
		s.succeeded = int32(len(s.succeededIdx))
	}
	if perIndex {
		for ix, n := range failuresByIndex {
			if n > *job.Spec.BackoffLimitPerIndex && !s.succeededIdx.has(ix) {
				s.failedIdx.add(ix)
			}
		}
	}
	return s
}

// evaluateTerminal decides whether the Job is finished, in the upstream
// order: an earlier decision, a podFailurePolicy FailJob match, the backoff
// limit, the active deadline (which wins over the retries left), per-index
// limits, then the success policy.
func (e *Engine) evaluateTerminal(b *batch, s *jobState) {
	job := s.job
	if c := findJobCondition(job, batchv1.JobSuccessCriteriaMet); c != nil && c.Status == corev1.ConditionTrue {
		s.cond = c.DeepCopy()
		return
	}
	if c := findJobCondition(job, batchv1.JobFailureTarget); c != nil && c.Status == corev1.ConditionTrue {
		s.cond = c.DeepCopy()
		return
	}
	fail := func(reason, msg string) { s.cond = newJobCondition(batchv1.JobFailureTarget, reason, msg, b.now) }
	if msg := failJobMessage(job, s.pods); msg != "" {
		fail(batchv1.JobReasonPodFailurePolicy, msg)
		return
	}
	switch {
	case s.failed > backoffLimit(job) || pastBackoffLimitOnFailure(job, s.pods):
		fail(batchv1.JobReasonBackoffLimitExceeded, "Job has reached the specified backoff limit")
		return
	case pastActiveDeadline(job, b.now):
		fail(batchv1.JobReasonDeadlineExceeded, "Job was active longer than specified deadline")
		return
	case job.Spec.ActiveDeadlineSeconds != nil && !jobSuspended(job) && job.Status.StartTime != nil:
		s.requeueAt(job.Status.StartTime.Add(time.Duration(*job.Spec.ActiveDeadlineSeconds) * time.Second))
	}
	if !isIndexed(job) {
		return
	}
	completions := int(ptr.Deref(job.Spec.Completions, 0))
	if s.failedIdx != nil {
		switch {
		case job.Spec.MaxFailedIndexes != nil && len(s.failedIdx) > int(*job.Spec.MaxFailedIndexes):
			fail(batchv1.JobReasonMaxFailedIndexesExceeded, "Job has exceeded the specified maximal number of failed indexes")
			return
		case len(s.failedIdx) > 0 && len(s.failedIdx)+len(s.succeededIdx) >= completions:
			fail(batchv1.JobReasonFailedIndexes, "Job has failed indexes")
			return
		}
	}
	if msg, ok := matchSuccessPolicy(job.Spec.SuccessPolicy, completions, s.succeededIdx); ok {
		s.cond = newJobCondition(batchv1.JobSuccessCriteriaMet, batchv1.JobReasonSuccessPolicy, msg, b.now)
	}
}

// jobComplete reports success by completions: succeeded ≥ completions, or,
// without completions (a work queue), a success and no active pods.
func jobComplete(s *jobState) bool {
	if len(s.active) > 0 {
		return false
	}
	if c := s.job.Spec.Completions; c != nil {
		return s.succeeded >= *c
	}
	return s.succeeded > 0
}

// suspendCondition keeps the Suspended condition and startTime in step with
// spec.suspend: suspending clears startTime, resuming resets it to now (so
// activeDeadlineSeconds counts continuous activity).
func (e *Engine) suspendCondition(b *batch, s *jobState) {
	job := s.job
	var changed bool
	if jobSuspended(job) {
		job.Status.Conditions, changed = ensureJobCondition(job.Status.Conditions, batchv1.JobSuspended, corev1.ConditionTrue, "JobSuspended", "Job suspended", b.now)
		if changed {
			job.Status.StartTime = nil
			b.event(KindJob, job.Namespace, job.Name, EventNormal, ReasonSuspended, "Job suspended")
		}
		return
	}
	job.Status.Conditions, changed = ensureJobCondition(job.Status.Conditions, batchv1.JobSuspended, corev1.ConditionFalse, "JobResumed", "Job resumed", b.now)
	if changed {
		job.Status.StartTime = mtp(b.now)
		b.event(KindJob, job.Namespace, job.Name, EventNormal, ReasonResumed, "Job resumed")
	}
}

// setCounters writes the counts into the Job's status.
func (s *jobState) setCounters() {
	st := &s.job.Status
	st.Active = int32(len(s.active))
	st.Succeeded = s.succeeded
	st.Failed = s.failed
	st.Terminating = ptr.To(s.terminating)
	ready := int32(0)
	for _, p := range s.active {
		if p.Status.Phase == corev1.PodRunning {
			ready++
		}
	}
	st.Ready = ptr.To(ready)
	if isIndexed(s.job) {
		st.CompletedIndexes = s.succeededIdx.String()
		if s.failedIdx != nil {
			st.FailedIndexes = ptr.To(s.failedIdx.String())
		}
	}
}

// finishJob records the interim condition and, once no pod is terminating,
// the final one (Failed after FailureTarget, Complete after
// SuccessCriteriaMet, with completionTime). It reports whether the Job is
// finished now.
func (e *Engine) finishJob(b *batch, s *jobState) bool {
	if s.cond == nil {
		return false
	}
	job := s.job
	if findJobCondition(job, s.cond.Type) == nil {
		job.Status.Conditions = append(job.Status.Conditions, *s.cond)
	}
	if s.terminating > 0 {
		return false
	}
	final := batchv1.JobFailed
	if s.cond.Type == batchv1.JobSuccessCriteriaMet {
		final = batchv1.JobComplete
	}
	job.Status.Conditions, _ = ensureJobCondition(job.Status.Conditions, final, corev1.ConditionTrue, s.cond.Reason, s.cond.Message, b.now)
	e.observeFinished(s, final, s.cond.Reason, b.now)
	if final == batchv1.JobComplete {
		job.Status.CompletionTime = mtp(b.now)
		b.event(KindJob, job.Namespace, job.Name, EventNormal, ReasonCompleted, "Job completed")
	} else {
		b.event(KindJob, job.Namespace, job.Name, EventWarning, s.cond.Reason, s.cond.Message)
	}
	return true
}

// killActive kills every active pod. counted says whether they then count
// as failures (a failing Job) or not (success policy).
func (e *Engine) killActive(b *batch, s *jobState, counted bool, reason string) {
	for _, p := range s.active {
		e.killPod(b, p, counted, reason)
		s.terminating++
	}
	s.active = nil
}

// killPod marks the pod as being deleted and kills its process after the
// batch commits. A pod killed with counted false never counts as a failure
// (suspend, scale-down: upstream removes its tracking finalizer first).
func (e *Engine) killPod(b *batch, p *corev1.Pod, counted bool, reason string) {
	np := p.DeepCopy()
	np.DeletionTimestamp = mtp(b.now)
	np.DeletionGracePeriodSeconds = ptr.To(ptr.Deref(p.Spec.TerminationGracePeriodSeconds, corev1.DefaultTerminationGracePeriodSeconds))
	if !counted {
		if np.Annotations == nil {
			np.Annotations = map[string]string{}
		}
		np.Annotations[AnnotationNotCounted] = reason
	}
	e.putPod(b, np)
	b.kills = append(b.kills, killOp{key: Key(np.Namespace, np.Name), reason: reason})
	b.event(KindPod, np.Namespace, np.Name, EventNormal, ReasonKilling, "Stopping pod: "+reason)
}
