package ledger

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
	"k8s.io/utils/clock"

	"github.com/jobsync/jobsync/fleet"
)

// LedgerFile is the ledger's file name in the state directory.
const LedgerFile = "ledger.db"

// RecentRuns is how many of each CronJob's newest runs are kept in memory
// (fleet.CronJob.Recent).
const RecentRuns = 20

// ErrLocked is returned by Open when another process (a running agent)
// holds the ledger file.
var ErrLocked = errors.New("the ledger file is in use by another process (is the agent running?)")

// ErrUnknownRun is returned by RunFinished for a Job the ledger never saw start.
var ErrUnknownRun = errors.New("no such run in the ledger")

var (
	bucketRuns = []byte("runs")
	bucketMeta = []byte("meta")
	keyUp      = []byte("up")
	keyCreated = []byte("created")
)

// Options configures Open.
type Options struct {
	// StateDir holds LedgerFile.
	StateDir string
	// Retention is how long runs are kept (by start time).
	Retention time.Duration
	// Clock is the time of pruning and of Up.
	Clock clock.PassiveClock
	// ReadOnly opens the file for reading only (another process may write it).
	ReadOnly bool
	// LockTimeout bounds the wait for the file lock.
	LockTimeout time.Duration
}

// DefaultOptions keeps 30 days of runs.
func DefaultOptions() Options {
	return Options{Retention: 30 * 24 * time.Hour, Clock: clock.RealClock{}, LockTimeout: time.Second}
}

// Ledger is the run ledger, safe for concurrent use.
type Ledger struct {
	db   *bolt.DB
	opts Options

	mu    sync.RWMutex
	cache map[string]*entry
	// gaps are the times the agent was down (between two Up sessions).
	gaps []Interval
	// upSince is when this session's Up began; lastUp the newest Up.
	upSince, lastUp time.Time
	// created is when the ledger file was made: nothing is known before.
	created time.Time
}

// Interval is a span of time [From, To).
type Interval struct{ From, To time.Time }

// Contains reports whether t is in [From, To).
func (i Interval) Contains(t time.Time) bool { return !t.Before(i.From) && t.Before(i.To) }

// entry is what the ledger keeps in memory for one CronJob.
type entry struct {
	recent                   []fleet.Run // oldest first
	lastSuccess, lastFailure time.Time
	suspended                []Interval // To zero: still suspended
	// lastScheduled is the newest Scheduled of its runs (schedPrefix).
	lastScheduled time.Time
}

// Open opens (creating it 0600) the ledger in opts.StateDir and loads each
// CronJob's recent runs.
func Open(opts Options) (*Ledger, error) {
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	path := filepath.Join(opts.StateDir, LedgerFile)
	if !opts.ReadOnly {
		if err := os.MkdirAll(opts.StateDir, 0o700); err != nil {
			return nil, fmt.Errorf("ledger: %w", err)
		}
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout, ReadOnly: opts.ReadOnly})
	if errors.Is(err, bolterrors.ErrTimeout) {
		err = ErrLocked
	}
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %w", path, err)
	}
	l := &Ledger{db: db, opts: opts, cache: map[string]*entry{}}
	if !opts.ReadOnly {
		err = db.Update(func(tx *bolt.Tx) error {
			for _, b := range [][]byte{bucketRuns, bucketMeta} {
				if _, err := tx.CreateBucketIfNotExists(b); err != nil {
					return err
				}
			}
			if m := tx.Bucket(bucketMeta); m.Get(keyCreated) == nil {
				return m.Put(keyCreated, runKey(opts.Clock.Now()))
			}
			return nil
		})
	}
	if err == nil {
		err = l.load()
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("ledger %s: %w", path, err)
	}
	return l, nil
}

// Close closes the file.
func (l *Ledger) Close() error { return l.db.Close() }

func cronJobKey(ns, name string) string { return ns + "/" + name }

func splitKey(k string) (string, string) {
	ns, name, _ := strings.Cut(k, "/")
	return ns, name
}

// load fills the cache from the file: each CronJob's newest runs, its last
// success and failure, and the agent's down gaps.
func (l *Ledger) load() error {
	return l.db.View(func(tx *bolt.Tx) error {
		if m := tx.Bucket(bucketMeta); m != nil {
			l.gaps, l.lastUp = decodeUp(m.Get(keyUp))
			if c := m.Get(keyCreated); len(c) == 8 {
				l.created = keyTime(c)
			}
			l.loadLast(m)
			l.loadLastScheduled(m)
			if err := l.loadSuspended(m); err != nil {
				return err
			}
		}
		runs := tx.Bucket(bucketRuns)
		if runs == nil {
			return nil
		}
		return runs.ForEachBucket(func(k []byte) error {
			ns, name := splitKey(string(k))
			e := l.entry(cronJobKey(ns, name))
			c := runs.Bucket(k).Cursor()
			for key, v := c.Last(); key != nil; key, v = c.Prev() {
				r, err := decodeRun(ns, name, key, v)
				if err != nil {
					return fmt.Errorf("CronJob/%s/%s: run at %s: %w", ns, name, keyTime(key).Format(time.RFC3339), err)
				}
				e.recent = append(e.recent, r)
				e.noteEnd(r)                            // the summary (lastPrefix) has older ones
				if r.Scheduled.After(e.lastScheduled) { // a ledger older than schedPrefix
					e.lastScheduled = r.Scheduled
				}
				if len(e.recent) == RecentRuns {
					break
				}
			}
			reverse(e.recent)
			return nil
		})
	})
}

func reverse(l []fleet.Run) {
	for i, j := 0, len(l)-1; i < j; i, j = i+1, j-1 {
		l[i], l[j] = l[j], l[i]
	}
}

func (e *entry) noteEnd(r fleet.Run) {
	switch {
	case r.Result == fleet.ResultSucceeded && r.End.After(e.lastSuccess):
		e.lastSuccess = r.End
	case r.Result == fleet.ResultFailed && r.End.After(e.lastFailure):
		e.lastFailure = r.End
	}
}

// entry returns the cache entry of key, creating it; l.mu must be held (or
// the ledger not yet shared).
func (l *Ledger) entry(key string) *entry {
	e := l.cache[key]
	if e == nil {
		e = &entry{}
		l.cache[key] = e
	}
	return e
}

// RunStarted records a run that started (its Job was created). A run of the
// same Job already in the ledger is left as it is.
func (l *Ledger) RunStarted(r fleet.Run) error { return l.Record(r) }

// lastPrefix keys each CronJob's last success and failure in the meta
// bucket (16 bytes: two Unix milliseconds, 0 for none), so that Open reads
// only the newest runs.
const lastPrefix = "last/"

func encodeLast(e *entry) []byte {
	b := make([]byte, 16)
	if !e.lastSuccess.IsZero() {
		copy(b, runKey(e.lastSuccess))
	}
	if !e.lastFailure.IsZero() {
		copy(b[8:], runKey(e.lastFailure))
	}
	return b
}

func (l *Ledger) loadLast(m *bolt.Bucket) {
	c := m.Cursor()
	for k, v := c.Seek([]byte(lastPrefix)); k != nil && strings.HasPrefix(string(k), lastPrefix); k, v = c.Next() {
		if len(v) != 16 {
			continue
		}
		e := l.entry(strings.TrimPrefix(string(k), lastPrefix))
		for i, t := range []*time.Time{&e.lastSuccess, &e.lastFailure} {
			if kt := v[8*i : 8*i+8]; binary.BigEndian.Uint64(kt) != 0 {
				*t = keyTime(kt)
			}
		}
	}
}

// Record writes runs as they are, one transaction for all (also the bulk
// import of a benchmark or a migration). A run whose Job is already in the
// ledger is kept as recorded, unless the new one has ended and the old not.
// An empty Result is Running.
func (l *Ledger) Record(runs ...fleet.Run) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	var recorded []fleet.Run
	err := l.db.Update(func(tx *bolt.Tx) error {
		recorded = recorded[:0]
		for _, r := range runs {
			r.Start, r.Scheduled, r.End = ms(r.Start), ms(r.Scheduled), ms(r.End)
			if r.Result == "" {
				r.Result = fleet.ResultRunning
			}
			ok, err := putRun(tx, r)
			if err != nil {
				return fmt.Errorf("CronJob/%s/%s: run %s: %w", r.Namespace, r.CronJob, r.Job, err)
			}
			if ok {
				recorded = append(recorded, r)
			}
		}
		if err := l.putLast(tx, recorded); err != nil {
			return err
		}
		return l.putLastScheduled(tx, recorded)
	})
	if err != nil {
		return fmt.Errorf("ledger: %w", err)
	}
	for _, r := range recorded {
		l.cacheRun(r)
		if e := l.entry(cronJobKey(r.Namespace, r.CronJob)); r.Scheduled.After(e.lastScheduled) {
			e.lastScheduled = r.Scheduled
		}
	}
	return nil
}

// putLast writes the last success and failure of the CronJobs whose runs
// ended among recorded (l.mu held).
func (l *Ledger) putLast(tx *bolt.Tx, recorded []fleet.Run) error {
	ended := map[string]*entry{}
	for _, r := range recorded {
		if r.Result == fleet.ResultRunning {
			continue
		}
		key := cronJobKey(r.Namespace, r.CronJob)
		e := ended[key]
		if e == nil {
			cur := l.entry(key)
			e = &entry{lastSuccess: cur.lastSuccess, lastFailure: cur.lastFailure}
			ended[key] = e
		}
		e.noteEnd(r)
	}
	m := tx.Bucket(bucketMeta)
	for key, e := range ended {
		if err := m.Put([]byte(lastPrefix+key), encodeLast(e)); err != nil {
			return err
		}
	}
	return nil
}

// schedPrefix keys each CronJob's newest scheduled time in the meta bucket
// (8 bytes, Unix milliseconds), never pruned: Evaluate counts due times
// from it when the run is no longer among the recent or kept runs.
const schedPrefix = "sched/"

// putLastScheduled writes the newest scheduled time of the CronJobs with a
// scheduled (or catch-up) run among recorded; the cache is set after the
// transaction commits (l.mu held).
func (l *Ledger) putLastScheduled(tx *bolt.Tx, recorded []fleet.Run) error {
	newest := map[string]time.Time{}
	for _, r := range recorded {
		key := cronJobKey(r.Namespace, r.CronJob)
		cur, ok := newest[key]
		if !ok {
			cur = l.entry(key).lastScheduled
		}
		if r.Scheduled.After(cur) {
			newest[key] = r.Scheduled
		}
	}
	m := tx.Bucket(bucketMeta)
	for key, t := range newest {
		if err := m.Put([]byte(schedPrefix+key), runKey(t)); err != nil {
			return err
		}
	}
	return nil
}

func (l *Ledger) loadLastScheduled(m *bolt.Bucket) {
	c := m.Cursor()
	for k, v := c.Seek([]byte(schedPrefix)); k != nil && strings.HasPrefix(string(k), schedPrefix); k, v = c.Next() {
		if len(v) == 8 {
			l.entry(strings.TrimPrefix(string(k), schedPrefix)).lastScheduled = keyTime(v)
		}
	}
}

func ms(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.UnixMilli(t.UnixMilli()).UTC()
}

// putRun writes r unless its Job is already recorded (and finished, or r
// has not finished either). It reports whether it wrote.
func putRun(tx *bolt.Tx, r fleet.Run) (bool, error) {
	if r.Namespace == "" || r.CronJob == "" || r.Job == "" || r.Start.IsZero() {
		return false, errors.New("namespace, cronjob, job and start are required")
	}
	b, err := tx.Bucket(bucketRuns).CreateBucketIfNotExists([]byte(cronJobKey(r.Namespace, r.CronJob)))
	if err != nil {
		return false, err
	}
	b.FillPercent = 0.95 // runs are appended in time order
	key, old, found := findJob(b, r.Namespace, r.CronJob, r.Job, r.Start)
	if found && (old.Result != fleet.ResultRunning || r.Result == fleet.ResultRunning) {
		return false, nil
	}
	if !found {
		key = runKey(r.Start)
		for b.Get(key) != nil { // two Jobs in the same millisecond
			r.Start = r.Start.Add(time.Millisecond)
			key = runKey(r.Start)
		}
	} else {
		r.Start = old.Start
	}
	return true, b.Put(key, encodeRun(r))
}

// findJob finds job's run near start (a Job is recorded at its creation
// time; a few milliseconds of difference are collisions moved up).
func findJob(b *bolt.Bucket, ns, cronJob, job string, start time.Time) ([]byte, fleet.Run, bool) {
	c := b.Cursor()
	for k, v := c.Seek(runKey(start)); k != nil && keyTime(k).Sub(start) < time.Second; k, v = c.Next() {
		if r, err := decodeRun(ns, cronJob, k, v); err == nil && r.Job == job {
			return k, r, true
		}
	}
	return nil, fleet.Run{}, false
}

// cacheRun puts r in its CronJob's recent runs. The slice is replaced, never
// changed in place: readers (Facts) share it without a copy.
func (l *Ledger) cacheRun(r fleet.Run) {
	e := l.entry(cronJobKey(r.Namespace, r.CronJob))
	e.noteEnd(r)
	next := make([]fleet.Run, 0, len(e.recent)+1)
	for _, old := range e.recent {
		if old.Job != r.Job {
			next = append(next, old)
		}
	}
	next = insertByStart(next, r)
	if len(next) > RecentRuns {
		next = next[len(next)-RecentRuns:]
	}
	e.recent = next
}

func insertByStart(l []fleet.Run, r fleet.Run) []fleet.Run {
	i := sort.Search(len(l), func(i int) bool { return l[i].Start.After(r.Start) })
	l = append(l, fleet.Run{})
	copy(l[i+1:], l[i:])
	l[i] = r
	return l
}

// RunFinished records the end of a Job's run. Finishing a finished run again
// changes nothing; a Job the ledger never saw start is ErrUnknownRun.
func (l *Ledger) RunFinished(ns, cronJob, job string, end time.Time, result fleet.Result, reason string) error {
	r, ok := l.findRun(ns, cronJob, job)
	if !ok {
		return fmt.Errorf("CronJob/%s/%s: Job %s: %w", ns, cronJob, job, ErrUnknownRun)
	}
	if r.Result != fleet.ResultRunning {
		return nil
	}
	r.End, r.Result, r.Reason = end, result, reason
	return l.Record(r)
}

// findRun looks for a Job's run in memory, then in the file (newest first).
func (l *Ledger) findRun(ns, cronJob, job string) (fleet.Run, bool) {
	l.mu.RLock()
	if e := l.cache[cronJobKey(ns, cronJob)]; e != nil {
		for _, r := range e.recent {
			if r.Job == job {
				l.mu.RUnlock()
				return r, true
			}
		}
	}
	l.mu.RUnlock()
	var found fleet.Run
	ok := false
	_ = l.scan(ns, cronJob, func(r fleet.Run) bool {
		if r.Job == job {
			found, ok = r, true
		}
		return !ok
	})
	return found, ok
}

// scan calls f with a CronJob's runs, newest first, until f returns false.
func (l *Ledger) scan(ns, cronJob string, f func(fleet.Run) bool) error {
	return l.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRuns)
		if b != nil {
			b = b.Bucket([]byte(cronJobKey(ns, cronJob)))
		}
		if b == nil {
			return nil
		}
		c := b.Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			r, err := decodeRun(ns, cronJob, k, v)
			if err != nil {
				return err
			}
			if !f(r) {
				return nil
			}
		}
		return nil
	})
}

// Runs returns a CronJob's runs, newest first, at most limit (<= 0: all).
func (l *Ledger) Runs(ns, cronJob string, limit int) []fleet.Run {
	var out []fleet.Run
	_ = l.scan(ns, cronJob, func(r fleet.Run) bool {
		out = append(out, r)
		return limit <= 0 || len(out) < limit
	})
	return out
}

// Prune deletes the runs that started before now - Retention, and the
// ledgers of CronJobs left empty. It returns how many runs it deleted.
func (l *Ledger) Prune() (int, error) {
	cut := runKey(l.opts.Clock.Now().Add(-l.opts.Retention))
	n := 0
	err := l.db.Update(func(tx *bolt.Tx) error {
		runs := tx.Bucket(bucketRuns)
		var empty [][]byte
		err := runs.ForEachBucket(func(k []byte) error {
			c := runs.Bucket(k).Cursor()
			for key, _ := c.First(); key != nil && bytes.Compare(key, cut) < 0; key, _ = c.First() {
				if err := c.Delete(); err != nil {
					return err
				}
				n++
			}
			if key, _ := c.First(); key == nil {
				empty = append(empty, append([]byte(nil), k...))
			}
			return nil
		})
		for _, k := range empty {
			if err == nil {
				err = runs.DeleteBucket(k)
			}
		}
		return err
	})
	if err != nil {
		return n, fmt.Errorf("ledger: prune: %w", err)
	}
	return n, nil
}
