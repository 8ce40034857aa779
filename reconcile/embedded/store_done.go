package embedded

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

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
// of Jobs and Pods, against 20 MB this way. A done object's ring of
// events moves with it (into its item: they are deleted together), out of
// the event bucket, whose pages are half empty too. Stores of version 3
// and earlier hold done objects by key: they are read there and move to
// the done area when next written.
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
	items, index := t.bucketOrNil(names[0]), t.bucketOrNil(names[1])
	if items == nil && index == nil && !t.tx.Writable() {
		// Written by version 3 or earlier and opened read-only: every
		// object is by key.
		return doneArea{}, false, nil
	}
	if items == nil || index == nil {
		return doneArea{}, false, fmt.Errorf("state store: bucket %s or %s missing", names[0], names[1])
	}
	return doneArea{items: items, index: index}, true, nil
}

// An item of the done area is the object's stored value, then its ring of
// events (if any): uvarint length and value, then the ring.
func doneItem(value, ring []byte) []byte {
	out := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen32+len(value)+len(ring)), uint64(len(value)))
	return append(append(out, value...), ring...)
}

var errDoneItem = errors.New("state store: damaged done item")

func splitDoneItem(item []byte) (value, ring []byte, err error) {
	n, l := binary.Uvarint(item)
	if l <= 0 || n > uint64(len(item)-l) {
		return nil, nil, errDoneItem
	}
	value, ring = item[l:l+int(n)], item[l+int(n):]
	if len(ring) == 0 {
		ring = nil
	}
	return value, ring, nil
}

// get returns the value and ring stored under key (nil value: none).
func (d doneArea) get(key []byte) (value, ring []byte, err error) {
	seq := d.index.Get(key)
	if seq == nil {
		return nil, nil, nil
	}
	return d.item(key, seq)
}

// item returns the value and ring of key's item, under seq.
func (d doneArea) item(key, seq []byte) (value, ring []byte, err error) {
	item := d.items.Get(seq)
	if item == nil {
		return nil, nil, fmt.Errorf("state store: %s: indexed under sequence %x but missing", key, seq)
	}
	if value, ring, err = splitDoneItem(item); err != nil {
		return nil, nil, fmt.Errorf("%w: %s", err, key)
	}
	return value, ring, nil
}

// put stores value and ring under key at the end of the area (its older
// item, if any, is dropped).
func (d doneArea) put(key, value, ring []byte) error {
	if err := d.delete(key); err != nil {
		return err
	}
	n, err := d.items.NextSequence()
	if err != nil {
		return err
	}
	seq := binary.BigEndian.AppendUint64(make([]byte, 0, 8), n)
	if err := d.items.Put(seq, doneItem(value, ring)); err != nil {
		return err
	}
	return d.index.Put(key, seq)
}

// putDone stores a done object's value in its kind's done area with its
// ring of events: the one it has there, else the event bucket's (moved).
func (t *Tx) putDone(k Kind, d doneArea, key string, data []byte) error {
	_, ring, err := d.get([]byte(key))
	if err != nil {
		return err
	}
	if ring == nil {
		evs, err := t.bucket(KindEvent)
		if err != nil {
			return err
		}
		ek := []byte(objectEventKey(k, key))
		if ring = bytes.Clone(evs.Get(ek)); ring != nil {
			if err := evs.Delete(ek); err != nil {
				return err
			}
		}
		return d.put([]byte(key), data, ring)
	}
	return d.rewrite([]byte(key), data, bytes.Clone(ring))
}

// undone removes key from the done area; its ring of events, if any, goes
// back to the event bucket (the object is running again).
func (t *Tx) undone(k Kind, d doneArea, key string) error {
	_, ring, err := d.get([]byte(key))
	if err != nil {
		return err
	}
	if ring != nil {
		evs, err := t.bucket(KindEvent)
		if err != nil {
			return err
		}
		if err := evs.Put([]byte(objectEventKey(k, key)), bytes.Clone(ring)); err != nil {
			return err
		}
	}
	return d.delete([]byte(key))
}

// doneRing finds the done object an event key names: its area and key.
// False when the object is not done (its ring is in the event bucket).
func (t *Tx) doneRing(eventKey string) (doneArea, []byte, bool, error) {
	kind, key, ok := strings.Cut(eventKey, "/")
	if !ok {
		return doneArea{}, nil, false, nil
	}
	d, hasDone, err := t.done(Kind(kind))
	if err != nil || !hasDone {
		return doneArea{}, nil, false, err
	}
	if d.index.Get([]byte(key)) == nil {
		return doneArea{}, nil, false, nil
	}
	return d, []byte(key), true, nil
}

// rewrite replaces the item under key where it is (put when there is none):
// new events on a done object do not move it, so the area stays in
// finishing order.
func (d doneArea) rewrite(key, value, ring []byte) error {
	seq := d.index.Get(key)
	if seq == nil {
		return d.put(key, value, ring)
	}
	return d.items.Put(bytes.Clone(seq), doneItem(value, ring))
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
		data, _, err := d.item(ik, seq)
		if err != nil {
			return err
		}
		if err := fn(string(ik), data); err != nil {
			return err
		}
		ik, seq = ic.Next()
	}
	return nil
}
