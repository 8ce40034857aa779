package embedded

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"
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
	return string(kind) + "/" + namespace + "/" + name
}

// eventPrefix is the key prefix of an object's events in the event bucket:
// the object's key and a NUL, then a big-endian sequence number.
func eventPrefix(key string) []byte { return append([]byte(key), 0) }

// AddEvent appends ev to the object's ring, dropping the oldest beyond the
// store's EventsPerObject.
func (t *Tx) AddEvent(key string, ev Event) error {
	b, err := t.bucket(KindEvent)
	if err != nil {
		return err
	}
	seq, err := b.NextSequence()
	if err != nil {
		return fmt.Errorf("events %s: %w", key, err)
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("events %s: encode: %w", key, err)
	}
	prefix := eventPrefix(key)
	if err := b.Put(binary.BigEndian.AppendUint64(prefix, seq), data); err != nil {
		return fmt.Errorf("events %s: %w", key, err)
	}
	c := b.Cursor()
	first, _ := c.Seek(prefix)
	n := 0
	for k := first; k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		n++
	}
	if n > t.ring && first != nil {
		return b.Delete(first)
	}
	return nil
}

// Events returns the object's events, oldest first.
func (t *Tx) Events(key string) ([]Event, error) {
	b, err := t.bucket(KindEvent)
	if err != nil {
		return nil, err
	}
	prefix := eventPrefix(key)
	var evs []Event
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		var ev Event
		if err := json.Unmarshal(v, &ev); err != nil {
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
	prefix := eventPrefix(key)
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
		if err := c.Delete(); err != nil {
			return fmt.Errorf("events %s: %w", key, err)
		}
	}
	return nil
}
