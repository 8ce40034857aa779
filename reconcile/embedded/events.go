package embedded

import (
	"bytes"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Event types, as Kubernetes names them.
const (
	EventNormal  = "Normal"
	EventWarning = "Warning"
)

// Event reasons the embedded controllers record (the upstream controllers'
// reasons where they have one).
const (
	ReasonTooManyMissedTimes   = "TooManyMissedTimes"
	ReasonJobAlreadyActive     = "JobAlreadyActive"
	ReasonInvalidSchedule      = "InvalidSchedule"
	ReasonUnparseableSchedule  = "UnparseableSchedule"
	ReasonUnknownTimeZone      = "UnknownTimeZone"
	ReasonMissSchedule         = "MissSchedule"
	ReasonSuccessfulCreate     = "SuccessfulCreate"
	ReasonSuccessfulDelete     = "SuccessfulDelete"
	ReasonSawCompletedJob      = "SawCompletedJob"
	ReasonMissingJob           = "MissingJob"
	ReasonCompleted            = "Completed"
	ReasonBackoffLimitExceeded = "BackoffLimitExceeded"
	ReasonDeadlineExceeded     = "DeadlineExceeded"
	ReasonPodFailurePolicy     = "PodFailurePolicy"
	ReasonMaxFailedIndexes     = "MaxFailedIndexesExceeded"
	ReasonFailedIndexes        = "FailedIndexes"
	ReasonSuspended            = "Suspended"
	ReasonResumed              = "Resumed"
	ReasonAgentRestart         = "AgentRestart"
	ReasonStartError           = "StartError"
	ReasonKilling              = "Killing"
	ReasonOverride             = "LocalOverride"
	ReasonOverrideCleared      = "LocalOverrideCleared"
	ReasonTTLExpired           = "TTLAfterFinished"
)

// Event is one thing that happened to an object.
type Event struct {
	Type    string    `json:"type"`
	Reason  string    `json:"reason"`
	Message string    `json:"message"`
	Time    time.Time `json:"time"`
}

// EventKey names the event ring of an object: "Kind/namespace/name".
func EventKey(kind Kind, namespace, name string) string {
	return objectEventKey(kind, Key(namespace, name))
}

// objectEventKey is EventKey of the object stored under key.
func objectEventKey(kind Kind, key string) string { return string(kind) + "/" + key }

// An object's events are one value of the event bucket under its EventKey:
// its ring (see event_codec.go). Earlier versions stored one entry per event
// under eventPrefix and a big-endian sequence number; those are still read
// (as the oldest) and are folded into the ring by the next AddEvent.

// eventPrefix is the key prefix of an object's events as earlier versions
// stored them: the object's key and a NUL, then a sequence number.
func eventPrefix(key string) []byte { return append([]byte(key), 0) }

// AddEvent appends ev to the object's ring, dropping the oldest beyond the
// store's EventsPerObject.
func (t *Tx) AddEvent(key string, ev Event) error {
	b, err := t.bucket(KindEvent)
	if err != nil {
		return err
	}
	entries, err := t.ringEntries(b, key, true)
	if err != nil {
		return err
	}
	data, err := encodeEvent(ev)
	if err != nil {
		return fmt.Errorf("events %s: encode: %w", key, err)
	}
	entries = append(entries, data)
	if len(entries) > t.ring {
		entries = entries[1:]
	}
	if err := t.putRing(b, key, encodeRing(entries)); err != nil {
		return fmt.Errorf("events %s: %w", key, err)
	}
	return nil
}

// ringData returns the object's ring: in the event bucket, or in its item
// when the object is done (see store_done.go).
func (t *Tx) ringData(b *bolt.Bucket, key string) ([]byte, error) {
	if data := b.Get([]byte(key)); data != nil {
		return data, nil
	}
	d, objKey, ok, err := t.doneRing(key)
	if err != nil || !ok {
		return nil, err
	}
	_, ring, err := d.get(objKey)
	return ring, err
}

// putRing stores the object's ring (nil: none) where ringData finds it.
func (t *Tx) putRing(b *bolt.Bucket, key string, ring []byte) error {
	d, objKey, ok, err := t.doneRing(key)
	if err != nil {
		return err
	}
	if !ok {
		if ring == nil {
			return b.Delete([]byte(key))
		}
		return b.Put([]byte(key), ring)
	}
	value, _, err := d.get(objKey)
	if err != nil {
		return err
	}
	return d.rewrite(objKey, bytes.Clone(value), ring)
}

// ringEntries returns the encoded events of the object, oldest first: in a
// version 2 store the entries of that version (re-encoded, and deleted when
// fold is set), then the ring's.
func (t *Tx) ringEntries(b *bolt.Bucket, key string, fold bool) ([][]byte, error) {
	var entries [][]byte
	prefix := eventPrefix(key)
	c := b.Cursor()
	for k, v := t.firstLegacy(c, prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		ev, err := decodeEvent(v)
		if err != nil {
			return nil, fmt.Errorf("events %s: decode: %w", key, err)
		}
		data, err := encodeEvent(ev)
		if err != nil {
			return nil, fmt.Errorf("events %s: encode: %w", key, err)
		}
		entries = append(entries, data)
	}
	if fold && len(entries) > 0 {
		if err := deletePrefix(c, prefix); err != nil {
			return nil, fmt.Errorf("events %s: %w", key, err)
		}
	}
	data, err := t.ringData(b, key)
	if err != nil {
		return nil, fmt.Errorf("events %s: %w", key, err)
	}
	ring, err := decodeRing(data)
	if err != nil {
		return nil, fmt.Errorf("events %s: decode: %w", key, err)
	}
	return append(entries, ring...), nil
}

// firstLegacy seeks the first version 2 entry of prefix, only in a
// version 2 store: the others have none (opening one read-write migrates it).
func (t *Tx) firstLegacy(c *bolt.Cursor, prefix []byte) ([]byte, []byte) {
	if !t.legacyEvents {
		return nil, nil
	}
	return c.Seek(prefix)
}

// Events returns the object's events, oldest first.
func (t *Tx) Events(key string) ([]Event, error) {
	b, err := t.bucket(KindEvent)
	if err != nil {
		return nil, err
	}
	entries, err := t.ringEntries(b, key, false)
	if err != nil {
		return nil, err
	}
	var evs []Event
	for _, data := range entries {
		ev, err := decodeEvent(data)
		if err != nil {
			return nil, fmt.Errorf("events %s: decode: %w", key, err)
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

// DeleteEvents drops the object's events (when the object is deleted).
func (t *Tx) DeleteEvents(key string) error {
	b, err := t.bucket(KindEvent)
	if err != nil {
		return err
	}
	if err := deletePrefix(b.Cursor(), eventPrefix(key)); err != nil {
		return fmt.Errorf("events %s: %w", key, err)
	}
	if err := t.putRing(b, key, nil); err != nil {
		return fmt.Errorf("events %s: %w", key, err)
	}
	return nil
}

func deletePrefix(c *bolt.Cursor, prefix []byte) error {
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return err
		}
	}
	return nil
}

// migrateEventsV2 folds the events of a version 2 store (one entry per
// event) into one ring per object, keeping every event and their order.
func (t *Tx) migrateEventsV2() error {
	b, err := t.bucket(KindEvent)
	if err != nil {
		return err
	}
	const seqLen = 8
	var keys []string
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if n := len(k) - seqLen - 1; n >= 0 && k[n] == 0 {
			if key := string(k[:n]); len(keys) == 0 || keys[len(keys)-1] != key {
				keys = append(keys, key)
			}
		}
	}
	for _, key := range keys {
		entries, err := t.ringEntries(b, key, true)
		if err != nil {
			return err
		}
		if err := b.Put([]byte(key), encodeRing(entries)); err != nil {
			return fmt.Errorf("events %s: %w", key, err)
		}
	}
	return nil
}
