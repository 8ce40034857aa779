package ledger

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// upEvery is how often Up writes its time: a gap shorter than that is not
// seen as the agent being down.
const upEvery = 10 * time.Second

// maxIntervals bounds the kept agent gaps and suspensions of each CronJob.
const maxIntervals = 50

const suspendPrefix = "suspend/"

type upRecord struct {
	Last time.Time  `json:"last"`
	Gaps []Interval `json:"gaps,omitempty"`
}

func decodeUp(b []byte) ([]Interval, time.Time) {
	var u upRecord
	if len(b) > 0 && json.Unmarshal(b, &u) == nil {
		return u.Gaps, u.Last
	}
	return nil, time.Time{}
}

// Up records that the agent is running now. The first call after a restart
// records the gap since the previous session's last call as "agent down".
func (l *Ledger) Up() error {
	now := l.opts.Clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.upSince.IsZero() {
		l.upSince = now
		if !l.lastUp.IsZero() && now.Sub(l.lastUp) > upEvery {
			l.gaps = appendInterval(l.gaps, Interval{From: l.lastUp, To: now})
		}
	} else if now.Sub(l.lastUp) < upEvery {
		return nil
	}
	l.lastUp = now
	b, err := json.Marshal(upRecord{Last: now, Gaps: l.gaps})
	if err != nil {
		return err
	}
	return l.putMeta(keyUp, b)
}

func appendInterval(l []Interval, i Interval) []Interval {
	l = append(l, i)
	if len(l) > maxIntervals {
		l = append(l[:0:0], l[len(l)-maxIntervals:]...)
	}
	return l
}

func (l *Ledger) putMeta(k, v []byte) error {
	if err := l.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(k, v) }); err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	return nil
}

// AgentGaps returns the times the agent was down, oldest first.
func (l *Ledger) AgentGaps() []Interval {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return append([]Interval(nil), l.gaps...)
}

// UpSince is when this session's first Up was (zero before it).
func (l *Ledger) UpSince() time.Time {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.upSince
}

// Suspended records a CronJob's spec.suspend as seen at time at; only
// changes are written. The spans it was suspended explain missed runs.
func (l *Ledger) Suspended(ns, name string, suspended bool, at time.Time) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entry(cronJobKey(ns, name))
	open := len(e.suspended) > 0 && e.suspended[len(e.suspended)-1].To.IsZero()
	switch {
	case suspended && !open:
		e.suspended = appendInterval(e.suspended, Interval{From: at})
	case !suspended && open:
		// copy on write: Facts hands the slice out without the lock
		iv := slices.Clone(e.suspended)
		iv[len(iv)-1].To = at
		e.suspended = iv
	default:
		return nil
	}
	b, err := json.Marshal(e.suspended)
	if err != nil {
		return err
	}
	return l.putMeta([]byte(suspendPrefix+cronJobKey(ns, name)), b)
}

func (l *Ledger) loadSuspended(m *bolt.Bucket) error {
	c := m.Cursor()
	p := []byte(suspendPrefix)
	for k, v := c.Seek(p); k != nil && strings.HasPrefix(string(k), suspendPrefix); k, v = c.Next() {
		var iv []Interval
		if err := json.Unmarshal(v, &iv); err != nil {
			return fmt.Errorf("suspension of %s: %w", strings.TrimPrefix(string(k), suspendPrefix), err)
		}
		l.entry(strings.TrimPrefix(string(k), suspendPrefix)).suspended = iv
	}
	return nil
}
