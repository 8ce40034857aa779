package embedded

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	batchv1 "k8s.io/api/batch/v1"
)

// writeV2Store turns the store in dir into a version 2 (or 3) one: schema,
// buckets and event entries as version 2 wrote them, holding evs per event
// key.
func writeV2Store(t *testing.T, dir, schema string, evs map[string][]Event) {
	t.Helper()
	s, err := OpenStore(dir, DefaultStoreOptions())
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := bolt.Open(filepath.Join(dir, StoreFile), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		if err := tx.Bucket([]byte(kindMeta)).Put([]byte(metaSchema), []byte(schema)); err != nil {
			return err
		}
		for _, names := range doneKinds { // since version 4
			for _, k := range names {
				if err := tx.DeleteBucket([]byte(k)); err != nil {
					return err
				}
			}
		}
		b := tx.Bucket([]byte(KindEvent))
		for key, list := range evs {
			for _, ev := range list {
				seq, err := b.NextSequence()
				if err != nil {
					return err
				}
				if err := b.Put(binary.BigEndian.AppendUint64(eventPrefix(key), seq), mustJSON(t, ev)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestStoreSchemaV2(t *testing.T) {
	at := func(i int) time.Time { return time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC) }
	evs := map[string][]Event{
		EventKey(KindJob, "ns", "j"):     {{Type: EventNormal, Reason: ReasonSuccessfulCreate, Message: "a", Time: at(1)}, {Type: EventWarning, Reason: ReasonBackoffLimitExceeded, Message: "b", Time: at(2)}},
		EventKey(KindJob, "ns", "j-1"):   {{Type: EventNormal, Reason: ReasonCompleted, Message: "c", Time: at(3)}},
		EventKey(KindCronJob, "ns", "c"): {{Type: EventNormal, Reason: ReasonSawCompletedJob, Message: "d", Time: at(4)}},
	}
	tests := []struct {
		name     string
		readOnly bool
		wantV2   bool
	}{
		{"read-only reads it as it is", true, true},
		{"read-write migrates it", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeV2Store(t, dir, storeSchemaV2, evs)
			o := DefaultStoreOptions()
			o.ReadOnly = tc.readOnly
			s, err := OpenStore(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			for key, want := range evs {
				if got := readEvents(t, s, key); !reflect.DeepEqual(got, want) {
					t.Errorf("%s: events %v, want %v", key, got, want)
				}
			}
			var schema string
			var legacy int
			err = s.db.View(func(tx *bolt.Tx) error {
				schema = string(tx.Bucket([]byte(kindMeta)).Get([]byte(metaSchema)))
				return tx.Bucket([]byte(KindEvent)).ForEach(func(k, _ []byte) error {
					if bytes.IndexByte(k, 0) >= 0 {
						legacy++
					}
					return nil
				})
			})
			s.Close()
			if err != nil {
				t.Fatal(err)
			}
			if gotV2 := schema == storeSchemaV2; gotV2 != tc.wantV2 || (legacy > 0) != tc.wantV2 {
				t.Errorf("schema %q with %d version 2 event entries, want version 2 kept: %v", schema, legacy, tc.wantV2)
			}
		})
	}
}

func TestStoreRefusesOtherSchema(t *testing.T) {
	for _, schema := range []string{"1", "5"} {
		t.Run(schema, func(t *testing.T) {
			dir := t.TempDir()
			writeV2Store(t, dir, schema, nil)
			s, err := OpenStore(dir, DefaultStoreOptions())
			if err == nil {
				s.Close()
				t.Fatal("opened, want a schema error")
			}
			if !strings.Contains(err.Error(), `schema version "`+schema+`"`) {
				t.Errorf("error %q, want the schema version named", err)
			}
		})
	}
}

// TestStoreSchemaV3 opens a version 3 store (nothing compressed): its values
// read as they are; opened read-write it is marked 4 (compressed values to
// come), read-only it stays 3.
func TestStoreSchemaV3(t *testing.T) {
	for _, tc := range []struct {
		name     string
		readOnly bool
		want     string
	}{{"read-only", true, storeSchemaV3}, {"read-write", false, storeSchema}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeV2Store(t, dir, storeSchemaV3, nil)
			db, err := bolt.Open(filepath.Join(dir, StoreFile), 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			job := completeJob("j")
			err = db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte(KindJob)).Put([]byte("ns/j"), mustProto(t, job)) })
			db.Close()
			if err != nil {
				t.Fatal(err)
			}
			o := DefaultStoreOptions()
			o.ReadOnly = tc.readOnly
			s, err := OpenStore(dir, o)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var got batchv1.Job
			var schema string
			err = s.View(func(tx *Tx) error {
				schema = string(tx.tx.Bucket([]byte(kindMeta)).Get([]byte(metaSchema)))
				_, err := tx.Get(KindJob, "ns/j", &got)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != "j" || got.Status.Succeeded != 1 {
				t.Errorf("read %s/%d, want the stored Job", got.Name, got.Status.Succeeded)
			}
			if schema != tc.want {
				t.Errorf("schema %q, want %q", schema, tc.want)
			}
		})
	}
}
