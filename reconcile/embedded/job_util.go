package embedded

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/jobsync/jobsync/jobchange"
)

// AnnotationNotCounted marks a pod the Job controller killed without it
// counting as a failure (suspend, scale-down, success policy); its value says why.
const AnnotationNotCounted = "jobsync.io/not-counted"

// Backoff of the Job controller before it recreates pods after failures
// (DefaultJobPodFailureBackOff, MaxJobPodFailureBackOff; docs/batch-semantics.md#backoff).
// The kubelet's restart backoff for restartPolicy OnFailure is podexec.RestartDelay.
const (
	JobBackoffBase = 10 * time.Second
	JobBackoffMax  = 10 * time.Minute
)

// maxPodCreatesPerSync bounds the pods one Job sync creates (MaxPodCreateDeletePerSync upstream).
const maxPodCreatesPerSync = 500

// JobBackoff returns the delay before new pods after n failures since the last
// success: 10 s × 2^(n−1), capped at 10 minutes; 0 when n ≤ 0.
func JobBackoff(n int) time.Duration { return doubling(n, JobBackoffBase, JobBackoffMax) }

func doubling(n int, base, capd time.Duration) time.Duration {
	if n <= 0 {
		return 0
	}
	d := base
	for i := 1; i < n; i++ {
		d *= 2
		if d >= capd {
			return capd
		}
	}
	return min(d, capd)
}

// indexSet is a set of completion indexes.
type indexSet map[int]struct{}

func (s indexSet) add(i int)      { s[i] = struct{}{} }
func (s indexSet) has(i int) bool { _, ok := s[i]; return ok }

// sorted returns the indexes in ascending order.
func (s indexSet) sorted() []int {
	out := make([]int, 0, len(s))
	for i := range s {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

// String renders the set as the API does: "1,3-5,7".
func (s indexSet) String() string {
	ix := s.sorted()
	var parts []string
	for i := 0; i < len(ix); {
		j := i
		for j+1 < len(ix) && ix[j+1] == ix[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, strconv.Itoa(ix[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", ix[i], ix[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// parseIndexes reads "1,3-5" keeping indexes below limit; nil on a bad list.
func parseIndexes(list string, limit int) indexSet {
	out := indexSet{}
	for _, part := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return nil
			}
		}
		for i := a; i <= b && i < limit; i++ {
			out.add(i)
		}
	}
	return out
}

// completionIndex returns the pod's completion index, or −1.
func completionIndex(p *corev1.Pod) int {
	v, ok := p.Annotations[batchv1.JobCompletionIndexAnnotation]
	if !ok {
		return -1
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < 0 {
		return -1
	}
	return i
}

func isIndexed(j *batchv1.Job) bool {
	return ptr.Deref(j.Spec.CompletionMode, batchv1.NonIndexedCompletion) == batchv1.IndexedCompletion
}

func jobSuspended(j *batchv1.Job) bool { return ptr.Deref(j.Spec.Suspend, false) }

func backoffLimit(j *batchv1.Job) int32 { return ptr.Deref(j.Spec.BackoffLimit, 6) }

func jobFinished(j *batchv1.Job) bool { return jobchange.FinishedCondition(j) != nil }

// jobFinishTime is when the Job finished: completionTime, else the time of
// its Failed condition.
func jobFinishTime(j *batchv1.Job) time.Time {
	if j.Status.CompletionTime != nil {
		return j.Status.CompletionTime.Time
	}
	if c := findJobCondition(j, jobchange.FinishedType(j)); c != nil {
		return c.LastTransitionTime.Time
	}
	return time.Time{}
}

func findJobCondition(j *batchv1.Job, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range j.Status.Conditions {
		if j.Status.Conditions[i].Type == t {
			return &j.Status.Conditions[i]
		}
	}
	return nil
}

func newJobCondition(t batchv1.JobConditionType, reason, msg string, now time.Time) *batchv1.JobCondition {
	return &batchv1.JobCondition{Type: t, Status: corev1.ConditionTrue, Reason: reason, Message: msg,
		LastProbeTime: mt(now), LastTransitionTime: mt(now)}
}

// ensureJobCondition sets the condition's status, reason and message. A
// condition with status False is only written when it already exists (as
// upstream: a Job never suspended has no Suspended condition). It reports
// whether the status changed.
func ensureJobCondition(conds []batchv1.JobCondition, t batchv1.JobConditionType, status corev1.ConditionStatus, reason, msg string, now time.Time) ([]batchv1.JobCondition, bool) {
	for i := range conds {
		if conds[i].Type != t {
			continue
		}
		if conds[i].Status == status {
			return conds, false
		}
		conds[i].Status, conds[i].Reason, conds[i].Message = status, reason, msg
		conds[i].LastProbeTime, conds[i].LastTransitionTime = mt(now), mt(now)
		return conds, true
	}
	if status != corev1.ConditionTrue {
		return conds, false
	}
	c := newJobCondition(t, reason, msg, now)
	return append(conds, *c), true
}

// onlyReplaceFailedPods is true when a terminating pod is not yet a failure.
func onlyReplaceFailedPods(j *batchv1.Job) bool {
	if p := j.Spec.PodReplacementPolicy; p != nil && *p == batchv1.Failed {
		return true
	}
	return j.Spec.PodFailurePolicy != nil
}

// isPodFailed is upstream's rule: Failed, or (without podFailurePolicy and
// under TerminatingOrFailed) deleted before it succeeded.
func isPodFailed(p *corev1.Pod, j *batchv1.Job) bool {
	if p.Status.Phase == corev1.PodFailed {
		return true
	}
	if onlyReplaceFailedPods(j) {
		return false
	}
	return p.DeletionTimestamp != nil && p.Status.Phase != corev1.PodSucceeded
}

// podCounted reports whether a failed pod counts towards the limits.
func podCounted(p *corev1.Pod) bool {
	_, not := p.Annotations[AnnotationNotCounted]
	return !not
}

// podFinishTime is when a pod ended: the latest container finish, else the
// time of its Ready/DisruptionTarget condition, else its creation.
func podFinishTime(p *corev1.Pod) time.Time {
	var t time.Time
	for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
		for _, s := range list {
			if s.State.Terminated != nil && s.State.Terminated.FinishedAt.After(t) {
				t = s.State.Terminated.FinishedAt.Time
			}
		}
	}
	if !t.IsZero() {
		return t
	}
	for _, c := range p.Status.Conditions {
		if (c.Type == corev1.DisruptionTarget || c.Type == corev1.PodReady) && c.LastTransitionTime.After(t) {
			t = c.LastTransitionTime.Time
		}
	}
	if t.IsZero() {
		return p.CreationTimestamp.Time
	}
	return t
}

// matchPodFailurePolicy returns, for a failed pod, the FailJob message (if
// that rule matched), whether the failure counts, and the matched action.
func matchPodFailurePolicy(pfp *batchv1.PodFailurePolicy, p *corev1.Pod) (string, bool, *batchv1.PodFailurePolicyAction) {
	if pfp == nil {
		return "", true, nil
	}
	for i, rule := range pfp.Rules {
		var what string
		switch {
		case rule.OnExitCodes != nil:
			cs := matchOnExitCodes(&p.Status, rule.OnExitCodes)
			if cs == nil {
				continue
			}
			what = fmt.Sprintf("Container %s for pod %s/%s failed with exit code %v", cs.Name, p.Namespace, p.Name, cs.State.Terminated.ExitCode)
		case rule.OnPodConditions != nil:
			c := matchOnPodConditions(&p.Status, rule.OnPodConditions)
			if c == nil {
				continue
			}
			what = fmt.Sprintf("Pod %s/%s has condition %v", p.Namespace, p.Name, c.Type)
		default:
			continue
		}
		a := rule.Action
		switch a {
		case batchv1.PodFailurePolicyActionIgnore:
			return "", false, &a
		case batchv1.PodFailurePolicyActionFailJob:
			return fmt.Sprintf("%s matching %v rule at index %d", what, a, i), true, &a
		default:
			return "", true, &a
		}
	}
	return "", true, nil
}

func matchOnExitCodes(st *corev1.PodStatus, req *batchv1.PodFailurePolicyOnExitCodesRequirement) *corev1.ContainerStatus {
	for _, list := range [][]corev1.ContainerStatus{st.ContainerStatuses, st.InitContainerStatuses} {
		for i := range list {
			cs := &list[i]
			if cs.State.Terminated == nil || cs.State.Terminated.ExitCode == 0 {
				continue
			}
			if req.ContainerName != nil && *req.ContainerName != cs.Name {
				continue
			}
			in := slices.Contains(req.Values, cs.State.Terminated.ExitCode)
			if (req.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn && in) || (req.Operator == batchv1.PodFailurePolicyOnExitCodesOpNotIn && !in) {
				return cs
			}
		}
	}
	return nil
}

func matchOnPodConditions(st *corev1.PodStatus, pats []batchv1.PodFailurePolicyOnPodConditionsPattern) *corev1.PodCondition {
	for i := range st.Conditions {
		for _, pat := range pats {
			if st.Conditions[i].Type == pat.Type && st.Conditions[i].Status == pat.Status {
				return &st.Conditions[i]
			}
		}
	}
	return nil
}

// failJobMessage returns the message of the first FailJob match among the
// Job's failed pods, or "".
func failJobMessage(j *batchv1.Job, pods []*corev1.Pod) string {
	if j.Spec.PodFailurePolicy == nil {
		return ""
	}
	for _, p := range pods {
		if p.Status.Phase != corev1.PodFailed {
			continue
		}
		if msg, _, a := matchPodFailurePolicy(j.Spec.PodFailurePolicy, p); a != nil && *a == batchv1.PodFailurePolicyActionFailJob {
			return msg
		}
	}
	return ""
}

// pastBackoffLimitOnFailure is upstream's rule for restartPolicy OnFailure:
// the container restarts of the running pods count towards backoffLimit.
func pastBackoffLimitOnFailure(j *batchv1.Job, pods []*corev1.Pod) bool {
	if j.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyOnFailure {
		return false
	}
	var n int32
	for _, p := range pods {
		if p.Status.Phase != corev1.PodRunning && p.Status.Phase != corev1.PodPending {
			continue
		}
		for _, list := range [][]corev1.ContainerStatus{p.Status.InitContainerStatuses, p.Status.ContainerStatuses} {
			for _, s := range list {
				n += s.RestartCount
			}
		}
	}
	if backoffLimit(j) == 0 {
		return n > 0
	}
	return n >= backoffLimit(j)
}

// pastActiveDeadline reports whether a running (not suspended) Job has been
// active for activeDeadlineSeconds.
func pastActiveDeadline(j *batchv1.Job, now time.Time) bool {
	if j.Spec.ActiveDeadlineSeconds == nil || j.Status.StartTime == nil || jobSuspended(j) {
		return false
	}
	return !now.Before(j.Status.StartTime.Add(time.Duration(*j.Spec.ActiveDeadlineSeconds) * time.Second))
}

// matchSuccessPolicy returns "Matched rules at index N" for the first rule
// the succeeded indexes satisfy.
func matchSuccessPolicy(sp *batchv1.SuccessPolicy, completions int, succeeded indexSet) (string, bool) {
	if sp == nil || len(succeeded) == 0 {
		return "", false
	}
	for i, rule := range sp.Rules {
		if rule.SucceededIndexes != nil {
			req := parseIndexes(*rule.SucceededIndexes, completions)
			if len(req) == 0 {
				continue
			}
			n := 0
			for ix := range req {
				if succeeded.has(ix) {
					n++
				}
			}
			if (rule.SucceededCount == nil && n == len(req)) || (rule.SucceededCount != nil && n >= int(*rule.SucceededCount)) {
				return fmt.Sprintf("Matched rules at index %d", i), true
			}
			continue
		}
		if rule.SucceededCount != nil && len(succeeded) >= int(*rule.SucceededCount) {
			return fmt.Sprintf("Matched rules at index %d", i), true
		}
	}
	return "", false
}
