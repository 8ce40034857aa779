package embedded

import (
	"reflect"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

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
	return jobInfo{Key: key, Name: j.Name, Namespace: j.Namespace, UID: j.UID, Finished: finishedType(j),
		Start: j.Status.StartTime, Completion: j.Status.CompletionTime}
}

// ref is the CronJob status.active entry of the Job.
func (i jobInfo) ref() corev1.ObjectReference {
	return corev1.ObjectReference{Kind: "Job", APIVersion: "batch/v1", Namespace: i.Namespace, Name: i.Name, UID: i.UID}
}

// doneJob is a finished Job as the cache keeps it: with 10,000 CronJobs and
// their history, full objects (and their pods) would not fit the memory
// budget, and no controller needs more than this. The store has them in full.
type doneJob struct {
	info   jobInfo
	owners []metav1.OwnerReference
	// specHash is the Job's jobsync.io/spec-hash annotation, the only one
	// a controller reads of a finished Job.
	specHash   string
	ttl        *int32
	finishedAt time.Time
	pods       []string
}

// coolJob turns a finished Job of the cache into its summary and drops its
// (finished) pods from memory, keeping their keys.
func (c *cache) coolJob(key string) {
	j := c.jobs[key]
	if j == nil || !jobFinished(j) {
		return
	}
	d := &doneJob{info: infoOf(key, j), owners: c.sharedOwners(key, j.OwnerReferences), specHash: j.Annotations[reconcile.AnnotationSpecHash],
		ttl: j.Spec.TTLSecondsAfterFinished, finishedAt: jobFinishTime(j), pods: sortedKeys(c.podsByOwner[j.UID])}
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
	if old := c.jobs[key]; old != nil && old.UID == j.UID {
		removeIndex(c.jobsByOwner, controllerUID(old.OwnerReferences), key)
	} else {
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
		return d.info, d.owners, true
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
