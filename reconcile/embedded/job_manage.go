package embedded

import (
	"strconv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/utils/ptr"
)

// Labels the Job controller puts on a Job's pod template and pods.
const (
	labelControllerUID       = "batch.kubernetes.io/controller-uid"
	labelJobName             = "batch.kubernetes.io/job-name"
	labelLegacyControllerUID = "controller-uid"
	labelLegacyJobName       = "job-name"
	// EnvCompletionIndex is the env var holding an Indexed Job pod's index.
	EnvCompletionIndex = "JOB_COMPLETION_INDEX"
)

// manageJob brings the active pods to the target count (manageJob upstream; docs/batch-semantics.md#pod-count): it kills
// them all when the Job is suspended, kills the newest extras, and creates the
// missing ones (lowest free index first) unless a failure backoff is pending.
func (e *Engine) manageJob(b *batch, s *jobState) {
	job := s.job
	if jobSuspended(job) {
		e.killActive(b, s, false, "JobSuspended")
		return
	}
	want := wantActive(s)
	if len(s.active) > want {
		for _, p := range s.active[want:] {
			e.killPod(b, p, false, "too many active pods")
			s.terminating++
		}
		s.active = s.active[:want]
		return
	}
	diff := min(want-len(s.active), maxPodCreatesPerSync)
	if diff <= 0 {
		return
	}
	if until := backoffUntil(s); b.now.Before(until) {
		s.requeueAt(until)
		return
	}
	if !isIndexed(job) {
		for range diff {
			s.active = append(s.active, e.createPod(b, job, -1))
		}
		return
	}
	for _, ix := range freeIndexes(s, diff) {
		s.active = append(s.active, e.createPod(b, job, ix))
	}
}

// wantActive is min(parallelism, completions − succeeded); without
// completions, parallelism until the first success and then none.
func wantActive(s *jobState) int {
	par := int(ptr.Deref(s.job.Spec.Parallelism, 1))
	c := s.job.Spec.Completions
	if c == nil {
		if s.succeeded > 0 {
			return 0
		}
		return par
	}
	left := int(*c) - int(s.succeeded)
	if s.failedIdx != nil {
		left -= len(s.failedIdx)
	}
	return max(0, min(par, left))
}

// freeIndexes returns up to n indexes below completions that have neither
// succeeded, failed for good, nor an active pod, lowest first.
func freeIndexes(s *jobState, n int) []int {
	busy := indexSet{}
	for _, p := range s.active {
		busy.add(completionIndex(p))
	}
	var out []int
	for ix := 0; ix < int(ptr.Deref(s.job.Spec.Completions, 0)) && len(out) < n; ix++ {
		if busy.has(ix) || s.succeededIdx.has(ix) || (s.failedIdx != nil && s.failedIdx.has(ix)) {
			continue
		}
		out = append(out, ix)
	}
	return out
}

// backoffUntil is when new pods may be created after the failures since the
// last success (docs/batch-semantics.md#backoff); zero when there are none.
func backoffUntil(s *jobState) time.Time {
	var lastSuccess, lastFail time.Time
	for _, p := range s.pods {
		if p.Status.Phase == corev1.PodSucceeded {
			if t := podFinishTime(p); t.After(lastSuccess) {
				lastSuccess = t
			}
		}
	}
	n := 0
	for _, p := range s.pods {
		if !isPodFailed(p, s.job) || !podCounted(p) {
			continue
		}
		if _, count, _ := matchPodFailurePolicy(s.job.Spec.PodFailurePolicy, p); !count {
			continue
		}
		t := podFinishTime(p)
		if !lastSuccess.IsZero() && !t.After(lastSuccess) {
			continue
		}
		n++
		if t.After(lastFail) {
			lastFail = t
		}
	}
	if n == 0 {
		return time.Time{}
	}
	return lastFail.Add(JobBackoff(n))
}

// createPod adds a Pending pod for the Job (index −1: NonIndexed) and asks
// for it to be started once the batch commits.
func (e *Engine) createPod(b *batch, job *batchv1.Job, index int) *corev1.Pod {
	tpl := job.Spec.Template.DeepCopy()
	prefix := job.Name + "-"
	if index >= 0 {
		prefix += strconv.Itoa(index) + "-"
	}
	name := prefix + rand.String(5)
	for e.cache.pods[Key(job.Namespace, name)] != nil {
		name = prefix + rand.String(5)
	}
	p := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: job.Namespace, UID: uuid.NewUUID(), CreationTimestamp: mt(b.now),
			Labels: copyMap(tpl.Labels), Annotations: copyMap(tpl.Annotations),
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "batch/v1", Kind: "Job", Name: job.Name, UID: job.UID,
				Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}},
		},
		Spec:   tpl.Spec,
		Status: corev1.PodStatus{Phase: corev1.PodPending},
	}
	p.Labels = addJobLabels(p.Labels, string(job.UID), job.Name)
	if index >= 0 {
		addCompletionIndex(p, job.Name, index)
	}
	e.putPod(b, p)
	b.starts = append(b.starts, Key(p.Namespace, p.Name))
	b.event(KindJob, job.Namespace, job.Name, EventNormal, ReasonSuccessfulCreate, "Created pod: "+p.Name)
	return p
}

// addCompletionIndex gives an Indexed Job's pod its index (docs/batch-semantics.md#indexed): the
// annotation and label, JOB_COMPLETION_INDEX in every container (from the
// annotation, as upstream does) and the hostname <job>-<index>.
func addCompletionIndex(p *corev1.Pod, job string, index int) {
	v := strconv.Itoa(index)
	p.Annotations = setMap(p.Annotations, batchv1.JobCompletionIndexAnnotation, v)
	p.Labels = setMap(p.Labels, batchv1.JobCompletionIndexAnnotation, v)
	if p.Spec.Hostname == "" {
		p.Spec.Hostname = job + "-" + v
	}
	env := corev1.EnvVar{Name: EnvCompletionIndex, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
		FieldPath: "metadata.annotations['" + batchv1.JobCompletionIndexAnnotation + "']"}}}
	for _, list := range [][]corev1.Container{p.Spec.InitContainers, p.Spec.Containers} {
		for i := range list {
			if !hasEnv(list[i].Env, EnvCompletionIndex) {
				list[i].Env = append(list[i].Env, env)
			}
		}
	}
}

func hasEnv(env []corev1.EnvVar, name string) bool {
	for _, e := range env {
		if e.Name == name {
			return true
		}
	}
	return false
}

// setMap sets m[k] = v, making m first when it is nil.
func setMap[V any](m map[string]V, k string, v V) map[string]V {
	if m == nil {
		m = map[string]V{}
	}
	m[k] = v
	return m
}

// addJobLabels sets the labels the Job controller puts on a Job's pod
// template and pods: the controller UID and the Job name, each under its
// current and its legacy key.
func addJobLabels(l map[string]string, uid, job string) map[string]string {
	l = setMap(l, labelControllerUID, uid)
	l = setMap(l, labelLegacyControllerUID, uid)
	l = setMap(l, labelJobName, job)
	return setMap(l, labelLegacyJobName, job)
}

// createJob stores a new Job (a UID, the creation time, the generated
// selector and labels, the API defaults) and queues it.
func (e *Engine) createJob(b *batch, j *batchv1.Job) *batchv1.Job {
	j.TypeMeta = metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"}
	j.UID = uuid.NewUUID()
	j.CreationTimestamp = mt(b.now)
	j.Status = batchv1.JobStatus{}
	defaultJob(j)
	e.putJob(b, j)
	e.queue.add(jobQueueKey(Key(j.Namespace, j.Name)), b.now)
	return j
}

// defaultJob applies the API defaults (SetDefaults_Job; docs/batch-semantics.md#defaults) and the generated selector.
func defaultJob(j *batchv1.Job) {
	sp := &j.Spec
	if sp.Completions == nil && sp.Parallelism == nil {
		sp.Completions, sp.Parallelism = ptr.To[int32](1), ptr.To[int32](1)
	}
	if sp.Parallelism == nil {
		sp.Parallelism = ptr.To[int32](1)
	}
	if sp.BackoffLimit == nil {
		if sp.BackoffLimitPerIndex != nil {
			sp.BackoffLimit = ptr.To[int32](2147483647)
		} else {
			sp.BackoffLimit = ptr.To[int32](6)
		}
	}
	if sp.CompletionMode == nil {
		sp.CompletionMode = ptr.To(batchv1.NonIndexedCompletion)
	}
	if sp.Suspend == nil {
		sp.Suspend = ptr.To(false)
	}
	if sp.PodReplacementPolicy == nil {
		pol := batchv1.TerminatingOrFailed
		if sp.PodFailurePolicy != nil {
			pol = batchv1.Failed
		}
		sp.PodReplacementPolicy = &pol
	}
	if !ptr.Deref(sp.ManualSelector, false) {
		uid := string(j.UID)
		sp.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{labelControllerUID: uid}}
		sp.Template.Labels = addJobLabels(sp.Template.Labels, uid, j.Name)
	}
}

// syncFinishedJob handles a finished Job: ttlSecondsAfterFinished deletes it
// (and its pods) that long after it finished (docs/batch-semantics.md#ttl).
func (e *Engine) syncFinishedJob(b *batch, key string, ttl *int32, finishedAt time.Time) (time.Time, bool) {
	if ttl == nil {
		return time.Time{}, false
	}
	expire := finishedAt.Add(time.Duration(*ttl) * time.Second)
	if b.now.Before(expire) {
		return expire, true
	}
	e.deleteJob(b, key, "ttlSecondsAfterFinished expired")
	return time.Time{}, false
}
