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
)

// writeV2Store turns the store in dir into a version 2 one (schema and
// event entries as version 2 wrote them) holding evs per event key.
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
	for _, schema := range []string{"1", "4"} {
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
