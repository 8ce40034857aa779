package embedded

import (
	"reflect"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/jobsync/jobsync/jobchange"
	"github.com/jobsync/jobsync/reconcile"
)

// jobInfo is what the CronJob controller reads of a child Job.
type jobInfo struct {
	Key, Name, Namespace string
	UID                  types.UID
	// Finished is Complete, Failed or "".
	Finished          batchv1.JobConditionType
	Start, Completion *metav1.Time
}

func infoOf(key string, j *batchv1.Job) jobInfo {
	return jobInfo{Key: key, Name: j.Name, Namespace: j.Namespace, UID: j.UID, Finished: jobchange.FinishedType(j),
		Start: j.Status.StartTime, Completion: j.Status.CompletionTime}
}

// ref is the CronJob status.active entry of the Job.
func (i jobInfo) ref() corev1.ObjectReference {
	return corev1.ObjectReference{Kind: "Job", APIVersion: "batch/v1", Namespace: i.Namespace, Name: i.Name, UID: i.UID}
}

// doneJob is a finished Job as the cache keeps it: with 10,000 CronJobs and
// their history, full objects (and their pods) would not fit the memory
// budget, and no controller needs more than this. The store has them in
// full. Its key gives its name and namespace; times are Unix nanoseconds
// (0: unset).
type doneJob struct {
	uid    types.UID
	owners []metav1.OwnerReference
	// specHash is the Job's jobsync.io/spec-hash annotation, the only one
	// a controller reads of a finished Job.
	specHash                      string
	ttl                           *int32
	pods                          []string
	start, completion, finishedAt int64
	failed                        bool
}

func unixNano(t *metav1.Time) int64 {
	if t == nil || t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) *metav1.Time {
	if n == 0 {
		return nil
	}
	t := metav1.NewTime(time.Unix(0, n))
	return &t
}

// finishTime returns when the done Job finished (zero: unknown).
func (d *doneJob) finishTime() time.Time {
	if t := fromUnixNano(d.finishedAt); t != nil {
		return t.Time
	}
	return time.Time{}
}

// info returns the summary of the done Job under key.
func (d *doneJob) info(key string) jobInfo {
	ns, name := splitKey(key)
	i := jobInfo{Key: key, Name: name, Namespace: ns, UID: d.uid, Finished: batchv1.JobComplete,
		Start: fromUnixNano(d.start), Completion: fromUnixNano(d.completion)}
	if d.failed {
		i.Finished = batchv1.JobFailed
	}
	return i
}

// coolJob turns a finished Job of the cache into its summary and drops its
// (finished) pods from memory, keeping their keys.
func (c *cache) coolJob(key string) {
	j := c.jobs[key]
	if j == nil || !jobFinished(j) {
		return
	}
	finishedAt := jobFinishTime(j)
	d := &doneJob{uid: j.UID, owners: c.sharedOwners(key, j.OwnerReferences), specHash: j.Annotations[reconcile.AnnotationSpecHash],
		ttl: j.Spec.TTLSecondsAfterFinished, pods: sortedKeys(c.podsByOwner[j.UID]),
		start: unixNano(j.Status.StartTime), completion: unixNano(j.Status.CompletionTime), finishedAt: unixNano(&metav1.Time{Time: finishedAt}),
		failed: jobchange.FinishedType(j) == batchv1.JobFailed}
	for _, pk := range d.pods {
		delete(c.pods, pk)
	}
	delete(c.podsByOwner, j.UID)
	delete(c.jobs, key)
	c.done[key] = d
}

// sharedOwners returns the owner references of another finished Job of the
// same controller when they are equal to owners (the Jobs of one CronJob
// all have the same), else owners: one copy kept instead of one per Job.
// Neither is ever modified.
func (c *cache) sharedOwners(key string, owners []metav1.OwnerReference) []metav1.OwnerReference {
	for k := range c.jobsByOwner[controllerUID(owners)] {
		if d := c.done[k]; d != nil && k != key && reflect.DeepEqual(d.owners, owners) {
			return d.owners
		}
	}
	return owners
}

// setJob stores a Job; a new object under the key (another UID) replaces
// the old one with its pods.
func (c *cache) setJob(key string, j *batchv1.Job) {
	switch old, done := c.jobs[key], c.done[key]; {
	case old != nil && old.UID == j.UID:
		removeIndex(c.jobsByOwner, controllerUID(old.OwnerReferences), key)
	case done != nil && done.uid == j.UID:
		// A finished Job updated in place (labels from Git): it keeps
		// its pods (the summary holds their keys).
		removeIndex(c.jobsByOwner, controllerUID(done.owners), key)
		delete(c.done, key)
		for _, pk := range done.pods {
			addIndex(c.podsByOwner, j.UID, pk)
		}
	default:
		c.removeJob(key)
	}
	c.jobs[key] = j
	addIndex(c.jobsByOwner, controllerUID(j.OwnerReferences), key)
}

// removeJob forgets a Job (hot or done) and its pods.
func (c *cache) removeJob(key string) {
	if old := c.jobs[key]; old != nil {
		removeIndex(c.jobsByOwner, controllerUID(old.OwnerReferences), key)
		for pk := range c.podsByOwner[old.UID] {
			delete(c.pods, pk)
		}
		delete(c.podsByOwner, old.UID)
		delete(c.jobs, key)
	}
	if d := c.done[key]; d != nil {
		removeIndex(c.jobsByOwner, controllerUID(d.owners), key)
		delete(c.done, key)
	}
}

// hasJob reports whether a Job (hot or done) exists.
func (c *cache) hasJob(key string) bool {
	return c.jobs[key] != nil || c.done[key] != nil
}

// jobInfo returns the summary and owners of a Job (hot or done).
func (c *cache) jobInfo(key string) (jobInfo, []metav1.OwnerReference, bool) {
	if j := c.jobs[key]; j != nil {
		return infoOf(key, j), j.OwnerReferences, true
	}
	if d := c.done[key]; d != nil {
		return d.info(key), d.owners, true
	}
	return jobInfo{}, nil, false
}

// jobSpecHash returns a Job's jobsync.io/spec-hash annotation and whether
// it is finished.
func (c *cache) jobSpecHash(key string) (string, bool, bool) {
	if j := c.jobs[key]; j != nil {
		return j.Annotations[reconcile.AnnotationSpecHash], jobFinished(j), true
	}
	if d := c.done[key]; d != nil {
		return d.specHash, true, true
	}
	return "", false, false
}

// podKeys returns the keys of a Job's pods, sorted.
func (c *cache) podKeys(key string) []string {
	if j := c.jobs[key]; j != nil {
		return sortedKeys(c.podsByOwner[j.UID])
	}
	if d := c.done[key]; d != nil {
		return d.pods
	}
	return nil
}

// jobsOf returns the Jobs controlled by the owner, sorted by name.
func (c *cache) jobsOf(owner types.UID) []jobInfo {
	keys := sortedKeys(c.jobsByOwner[owner])
	out := make([]jobInfo, 0, len(keys))
	for _, k := range keys {
		if i, _, ok := c.jobInfo(k); ok {
			out = append(out, i)
		}
	}
	return out
}
