package embedded

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/jobsync/jobsync/internal/privdir"
	"github.com/jobsync/jobsync/reconcile"
)

// StoreFile is the name of the state file inside the state directory.
const StoreFile = "state.db"

// storeSchema is the layout version written in the meta bucket. A store with
// another version is refused instead of being misread, except older ones
// this version reads: 3 (nothing compressed, see codec.go) as it is, and 2
// (one entry per event, JSON) as it is and migrated to one ring per object
// (see events.go) when opened read-write. A store opened read-write is
// marked 4 (an older jobsync refuses it: it cannot read compressed values).
const (
	storeSchema   = "4"
	storeSchemaV3 = "3"
	storeSchemaV2 = "2"
)

// Kind names one bucket of the store.
type Kind string

// Buckets of the store. Objects are stored in the protobuf encoding of their
// k8s.io/api type (as the API server stores them; several times faster than
// JSON), keyed "<namespace>/<name>"; Object holds every other kind applied
// from Git (keyed by reconcile.ObjectRef.Key) as unstructured JSON.
const (
	KindCronJob   Kind = "CronJob"
	KindJob       Kind = "Job"
	KindPod       Kind = "Pod"
	KindConfigMap Kind = "ConfigMap"
	KindSecret    Kind = "Secret"
	KindObject    Kind = "Object"
	// KindEvent holds one bounded ring of events per object, keyed by EventKey.
	KindEvent Kind = "Event"
	// KindOverride holds the local suspend/resume overrides of CronJobs.
	KindOverride Kind = "Override"
	kindMeta     Kind = "Meta"
)

var allKinds = []Kind{KindCronJob, KindJob, KindPod, KindConfigMap, KindSecret, KindObject, KindEvent, KindOverride, kindMeta,
	kindJobDone, kindJobDoneIndex, kindPodDone, kindPodDoneIndex}

// Keys of the meta bucket.
const (
	metaSchema    = "schema"
	metaInventory = "inventory"
	metaRevision  = "revision"
)

// ErrLocked is returned by OpenStore when another process (a running agent)
// holds the state file.
var ErrLocked = errors.New("the state file is in use by another process (is the agent running?)")

// StoreOptions tunes OpenStore.
type StoreOptions struct {
	// ReadOnly opens the file for reading only (shared lock).
	ReadOnly bool
	// LockTimeout bounds the wait for the file lock; ErrLocked after it.
	LockTimeout time.Duration
	// EventsPerObject is the size of each object's event ring.
	EventsPerObject int
}

// DefaultStoreOptions returns read-write, a 1 s lock timeout and 20 events per object.
func DefaultStoreOptions() StoreOptions {
	return StoreOptions{LockTimeout: time.Second, EventsPerObject: 20}
}

// Store is the embedded target's state: one bbolt file in the state directory
// holding CronJobs, Jobs, Pods, ConfigMaps, Secrets and other applied objects,
// events, overrides, the inventory and the last applied revision. Every write
// goes through Update: one transaction, fsync'd on commit, so a crash leaves
// either all of it or none of it.
type Store struct {
	db   *bolt.DB
	opts StoreOptions
	// legacyEvents: the store is of version 2, opened read-only (opened
	// read-write, it is migrated): events may be stored one per entry.
	legacyEvents bool
}

// OpenStore opens (creating it when needed, unless read-only) the store in dir.
func OpenStore(dir string, opts StoreOptions) (*Store, error) {
	if dir == "" {
		return nil, errors.New("state store: no state directory given: set the state dir")
	}
	if opts.EventsPerObject <= 0 {
		opts.EventsPerObject = DefaultStoreOptions().EventsPerObject
	}
	path := filepath.Join(dir, StoreFile)
	if opts.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("state store %s: %w", path, err)
		}
	} else if err := privdir.Dir(dir); err != nil {
		return nil, fmt.Errorf("state store: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.LockTimeout, ReadOnly: opts.ReadOnly, FreelistType: bolt.FreelistMapType, NoFreelistSync: true})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("state store %s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("state store %s: %w", path, err)
	}
	if !opts.ReadOnly {
		// bolt.Open's mode is for a new file, less the umask.
		if err := privdir.File(path); err != nil {
			db.Close()
			return nil, fmt.Errorf("state store: %w", err)
		}
	}
	s := &Store{db: db, opts: opts}
	if err := s.init(); err != nil {
		db.Close()
		return nil, fmt.Errorf("state store %s: %w", path, err)
	}
	return s, nil
}

// init creates the buckets and checks the schema version.
func (s *Store) init() error {
	check := func(tx *bolt.Tx) error {
		m := tx.Bucket([]byte(kindMeta))
		if m == nil {
			return nil
		}
		if v := string(m.Get([]byte(metaSchema))); v != storeSchema && v != storeSchemaV3 && v != storeSchemaV2 {
			return fmt.Errorf("schema version %q, this jobsync reads %q: use the matching jobsync version or a new state dir", v, storeSchema)
		}
		return nil
	}
	if s.opts.ReadOnly {
		return s.db.View(func(tx *bolt.Tx) error {
			if m := tx.Bucket([]byte(kindMeta)); m != nil {
				s.legacyEvents = string(m.Get([]byte(metaSchema))) == storeSchemaV2
			}
			return check(tx)
		})
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := check(tx); err != nil {
			return err
		}
		for _, k := range allKinds {
			if _, err := tx.CreateBucketIfNotExists([]byte(k)); err != nil {
				return err
			}
		}
		meta := tx.Bucket([]byte(kindMeta))
		if string(meta.Get([]byte(metaSchema))) == storeSchemaV2 {
			if err := (&Tx{tx: tx, ring: s.opts.EventsPerObject, legacyEvents: true}).migrateEventsV2(); err != nil {
				return fmt.Errorf("migrate schema %s to %s: %w", storeSchemaV2, storeSchema, err)
			}
		}
		return meta.Put([]byte(metaSchema), []byte(storeSchema))
	})
}

// Close closes the file.
func (s *Store) Close() error { return s.db.Close() }

// Path returns the state file's path.
func (s *Store) Path() string { return s.db.Path() }

// Update runs fn in one read-write transaction, committed (and fsync'd) when
// fn returns nil and rolled back otherwise.
func (s *Store) Update(fn func(*Tx) error) error {
	return s.db.Update(func(tx *bolt.Tx) error { return fn(&Tx{tx: tx, ring: s.opts.EventsPerObject}) })
}

// View runs fn in a read-only transaction.
func (s *Store) View(fn func(*Tx) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		return fn(&Tx{tx: tx, ring: s.opts.EventsPerObject, legacyEvents: s.legacyEvents})
	})
}

// Tx is one store transaction. Writes are only valid inside Store.Update.
type Tx struct {
	tx   *bolt.Tx
	ring int
	// legacyEvents: look for events stored one per entry (version 2).
	legacyEvents bool
}

// bucketFill is how full bbolt fills a page of the bucket when it splits
// one (bbolt's default is half). Measured with 10,000 CronJobs: the Pod
// bucket's pages went from 44% to 75% full (41 to 24 MB); the others, whose
// keys are inserted between neighbours or rewritten in place, got no
// better or worse (a 90% page split by the next insert leaves a near-empty
// one).
var bucketFill = map[Kind]float64{KindPod: 0.9, kindJobDone: 1, kindPodDone: 1}

// Key returns the store key of a namespaced object.
func Key(namespace, name string) string { return namespace + "/" + name }

func (t *Tx) bucket(k Kind) (*bolt.Bucket, error) {
	b := t.bucketOrNil(k)
	if b == nil {
		return nil, fmt.Errorf("state store: bucket %s missing", k)
	}
	return b, nil
}

// bucketOrNil returns the kind's bucket with its fill (nil when missing).
func (t *Tx) bucketOrNil(k Kind) *bolt.Bucket {
	b := t.tx.Bucket([]byte(k))
	if b == nil {
		return nil
	}
	if f, ok := bucketFill[k]; ok {
		b.FillPercent = f
	}
	return b
}

// protoMarshaler and protoUnmarshaler are the generated protobuf methods of
// the k8s.io/api types.
type protoMarshaler interface{ Marshal() ([]byte, error) }
type protoUnmarshaler interface{ Unmarshal([]byte) error }

// rawValue is a value already encoded (as encode would).
type rawValue []byte

// encode returns the protobuf encoding of a k8s.io/api object, else JSON.
func encode(obj any) ([]byte, error) {
	if r, ok := obj.(rawValue); ok {
		return r, nil
	}
	if m, ok := obj.(protoMarshaler); ok {
		return m.Marshal()
	}
	return json.Marshal(obj)
}

// decode is the inverse of encode, for values stored compressed too.
func decode(data []byte, out any) error {
	data, err := decompressed(data)
	if err != nil {
		return err
	}
	if u, ok := out.(protoUnmarshaler); ok {
		return u.Unmarshal(data)
	}
	return json.Unmarshal(data, out)
}

// Put stores obj under key in the kind's bucket: Jobs and Pods compressed
// (see codec.go), finished ones in the kind's done area (store_done.go).
func (t *Tx) Put(k Kind, key string, obj any) error {
	data, err := encode(obj)
	if err == nil {
		if c := codecOf(obj); c != nil {
			data, err = c.compress(data)
		}
	}
	if err != nil {
		return fmt.Errorf("%s/%s: encode: %w", k, key, err)
	}
	b, err := t.bucket(k)
	if err != nil {
		return err
	}
	d, hasDone, err := t.done(k)
	if err != nil {
		return err
	}
	switch {
	case !hasDone:
		err = b.Put([]byte(key), data)
	case isDone(obj):
		if err = b.Delete([]byte(key)); err == nil {
			err = t.putDone(k, d, key, data)
		}
	default:
		if err = t.undone(k, d, key); err == nil {
			err = b.Put([]byte(key), data)
		}
	}
	if err != nil {
		return fmt.Errorf("%s/%s: write: %w", k, key, err)
	}
	return nil
}

// Get decodes the object under key into out; false when there is none.
func (t *Tx) Get(k Kind, key string, out any) (bool, error) {
	b, err := t.bucket(k)
	if err != nil {
		return false, err
	}
	data := b.Get([]byte(key))
	if data == nil {
		d, hasDone, err := t.done(k)
		if err != nil || !hasDone {
			return false, err
		}
		if data, _, err = d.get([]byte(key)); err != nil || data == nil {
			return false, err
		}
	}
	if err := decode(data, out); err != nil {
		return false, fmt.Errorf("%s/%s: decode: %w", k, key, err)
	}
	return true, nil
}

// Delete removes the object under key (no error when absent).
func (t *Tx) Delete(k Kind, key string) error {
	b, err := t.bucket(k)
	if err != nil {
		return err
	}
	d, hasDone, err := t.done(k)
	if err == nil && hasDone {
		err = d.delete([]byte(key))
	}
	if err != nil {
		return err
	}
	return b.Delete([]byte(key))
}

// ForEach calls fn with every key and stored value (for decode) of the
// kind, in key order.
// The bytes are valid only during fn.
func (t *Tx) ForEach(k Kind, fn func(key string, data []byte) error) error {
	b, err := t.bucket(k)
	if err != nil {
		return err
	}
	d, hasDone, err := t.done(k)
	if err != nil {
		return err
	}
	if hasDone {
		return t.forEachDone(b, d, fn)
	}
	return b.ForEach(func(key, v []byte) error { return fn(string(key), v) })
}

// Inventory returns the stored inventory and the last applied revision.
func (t *Tx) Inventory() (reconcile.Inventory, string, error) {
	inv := reconcile.Inventory{}
	if _, err := t.Get(kindMeta, metaInventory, &inv); err != nil {
		return nil, "", err
	}
	var rev string
	if _, err := t.Get(kindMeta, metaRevision, &rev); err != nil {
		return nil, "", err
	}
	return inv, rev, nil
}

// SetInventory records the inventory and the revision it was applied from.
func (t *Tx) SetInventory(inv reconcile.Inventory, revision string) error {
	if err := t.Put(kindMeta, metaInventory, inv); err != nil {
		return err
	}
	return t.Put(kindMeta, metaRevision, revision)
}
