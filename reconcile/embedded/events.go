package embedded

import (
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

// AddEvent appends ev to the object's ring, dropping the oldest beyond the
// store's EventsPerObject.
func (t *Tx) AddEvent(key string, ev Event) error {
	evs, err := t.Events(key)
	if err != nil {
		return err
	}
	evs = append(evs, ev)
	if n := len(evs) - t.ring; n > 0 {
		evs = evs[n:]
	}
	return t.Put(KindEvent, key, evs)
}

// Events returns the object's events, oldest first.
func (t *Tx) Events(key string) ([]Event, error) {
	var evs []Event
	if _, err := t.Get(KindEvent, key, &evs); err != nil {
		return nil, err
	}
	return evs, nil
}

// DeleteEvents drops the object's ring (when the object is deleted).
func (t *Tx) DeleteEvents(key string) error { return t.Delete(KindEvent, key) }
