package embedded

import (
	"bytes"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// Finished Jobs and terminal Pods are kept apart from running ones, in a
// done area per kind: the objects under a sequence number, in the order
// they were stored (finished), and an index from their key to it. A
// CronJob's history is deleted oldest first, so the done objects are
// appended at one end and deleted at the other: their pages are filled
// whole and emptied whole. Kept by key among the running ones (inserted
// between neighbours, rewritten, deleted), they filled their pages to
// half on average: with 10,000 CronJobs' history, 32 MB of pages for 14 MB
// of Jobs and Pods, against 20 MB this way. Stores of version 3 and
// earlier hold done objects by key: they are read there and move to the
// done area when next written.
const (
	kindJobDone      Kind = "JobDone"
	kindJobDoneIndex Kind = "JobDoneIndex"
	kindPodDone      Kind = "PodDone"
	kindPodDoneIndex Kind = "PodDoneIndex"
)

// doneKinds are the done area buckets of a kind: objects, index.
var doneKinds = map[Kind][2]Kind{
	KindJob: {kindJobDone, kindJobDoneIndex},
	KindPod: {kindPodDone, kindPodDoneIndex},
}

// isDone reports whether obj belongs in the done area.
func isDone(obj any) bool {
	switch o := obj.(type) {
	case *batchv1.Job:
		return jobFinished(o)
	case *corev1.Pod:
		return podTerminal(o)
	}
	return false
}

// doneArea is one kind's done area in a transaction.
type doneArea struct {
	items, index *bolt.Bucket
}

// done returns the kind's done area; false for kinds without one.
func (t *Tx) done(k Kind) (doneArea, bool, error) {
	names, ok := doneKinds[k]
	if !ok {
		return doneArea{}, false, nil
	}
	items, index := t.tx.Bucket([]byte(names[0])), t.tx.Bucket([]byte(names[1]))
	if items == nil && index == nil && !t.tx.Writable() {
		// Written by version 3 or earlier and opened read-only: every
		// object is by key.
		return doneArea{}, false, nil
	}
	if items == nil || index == nil {
		return doneArea{}, false, fmt.Errorf("state store: bucket %s or %s missing", names[0], names[1])
	}
	if f, ok := bucketFill[names[0]]; ok {
		items.FillPercent = f
	}
	return doneArea{items: items, index: index}, true, nil
}

func (d doneArea) get(key []byte) []byte {
	seq := d.index.Get(key)
	if seq == nil {
		return nil
	}
	return d.items.Get(seq)
}

// put stores data under key at the end of the area (its older value, if
// any, is dropped).
func (d doneArea) put(key, data []byte) error {
	if err := d.delete(key); err != nil {
		return err
	}
	n, err := d.items.NextSequence()
	if err != nil {
		return err
	}
	seq := binary.BigEndian.AppendUint64(make([]byte, 0, 8), n)
	if err := d.items.Put(seq, data); err != nil {
		return err
	}
	return d.index.Put(key, seq)
}

func (d doneArea) delete(key []byte) error {
	seq := d.index.Get(key)
	if seq == nil {
		return nil
	}
	seq = bytes.Clone(seq) // index.Delete may reuse its page
	if err := d.index.Delete(key); err != nil {
		return err
	}
	return d.items.Delete(seq)
}

// forEachDone calls fn with the entries of the kind's running bucket b and
// of its done area, in key order (both are sorted by key: merge them).
func (t *Tx) forEachDone(b *bolt.Bucket, d doneArea, fn func(key string, data []byte) error) error {
	c, ic := b.Cursor(), d.index.Cursor()
	k, v := c.First()
	ik, seq := ic.First()
	for k != nil || ik != nil {
		if ik == nil || (k != nil && bytes.Compare(k, ik) < 0) {
			if err := fn(string(k), v); err != nil {
				return err
			}
			k, v = c.Next()
			continue
		}
		data := d.items.Get(seq)
		if data == nil {
			return fmt.Errorf("state store: %s: indexed under sequence %x but missing", ik, seq)
		}
		if err := fn(string(ik), data); err != nil {
			return err
		}
		ik, seq = ic.Next()
	}
	return nil
}
