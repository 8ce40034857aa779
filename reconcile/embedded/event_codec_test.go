package embedded

import (
	"encoding/binary"
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// TestEventCodecMatchesJSON checks that an event read back from the compact
// form equals the one JSON (the earlier form) gives, location included.
func TestEventCodecMatchesJSON(t *testing.T) {
	base := time.Date(2026, 3, 4, 5, 6, 7, 891011121, time.UTC)
	tests := []struct {
		name string
		ev   Event
	}{
		{"utc with nanoseconds", Event{Type: EventNormal, Reason: ReasonSuccessfulCreate, Message: "Created job cj-1", Time: base}},
		{"whole seconds", Event{Type: EventWarning, Reason: ReasonBackoffLimitExceeded, Message: "Job has reached the specified backoff limit", Time: base.Truncate(time.Second)}},
		{"zero time and empty strings", Event{}},
		{"fixed zone", Event{Type: EventNormal, Reason: ReasonCompleted, Message: "done", Time: base.In(time.FixedZone("X", 5*3600+1800))}},
		{"zero-offset named zone", Event{Type: EventNormal, Reason: ReasonCompleted, Message: "ünïcode \"quoted\"\n", Time: base.In(time.FixedZone("GMT", 0))}},
		{"local zone", Event{Type: EventNormal, Reason: ReasonKilling, Message: "m", Time: base.Local()}},
		{"before 1970", Event{Type: EventNormal, Reason: ReasonMissSchedule, Message: "m", Time: time.Date(1901, 1, 1, 0, 0, 0, 5, time.UTC)}},
		{"monotonic reading dropped", Event{Type: EventNormal, Reason: ReasonResumed, Message: "m", Time: time.Now()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			js, err := json.Marshal(tc.ev)
			if err != nil {
				t.Fatal(err)
			}
			want, err := decodeEvent(js)
			if err != nil {
				t.Fatalf("decode JSON: %v", err)
			}
			data, err := encodeEvent(tc.ev)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeEvent(data)
			if err != nil {
				t.Fatalf("decode compact: %v", err)
			}
			if !reflect.DeepEqual(got, want) || got.Time.Location().String() != want.Time.Location().String() {
				t.Errorf("compact gives %#v, JSON gives %#v", got, want)
			}
			if len(data) >= len(js) {
				t.Errorf("compact form is %d bytes, JSON %d", len(data), len(js))
			}
		})
	}
}

func TestEventCodecErrors(t *testing.T) {
	good, err := encodeEvent(Event{Type: EventNormal, Reason: ReasonCompleted, Message: "msg", Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"header only", []byte{eventFormatV1}},
		{"truncated message", good[:10]},
		{"no time", good[:1+1+len(EventNormal)+1+len(ReasonCompleted)+1+3]},
		{"trailing bytes", append(append([]byte{}, good...), 0)},
		{"unknown time form", append(append([]byte{}, good[:1+1+len(EventNormal)+1+len(ReasonCompleted)+1+3]...), 'Z')},
		{"nanoseconds out of range", binary.AppendUvarint(append(append([]byte{}, good[:1+1+len(EventNormal)+1+len(ReasonCompleted)+1+3]...), eventTimeUTC, 0), uint64(time.Second))},
		{"bad JSON", []byte(`{"type":`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if ev, err := decodeEvent(tc.data); err == nil {
				t.Errorf("decoded %#v, want an error", ev)
			}
		})
	}
	if _, err := encodeEvent(Event{Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil {
		t.Error("year 10000 encoded, want an error as JSON gives")
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestEventRing checks the ring keeps the newest EventsPerObject events of
// each object, apart from its neighbours', and DeleteEvents drops them all
// (the earlier versions' entries too).
func TestEventRing(t *testing.T) {
	at := func(i int) time.Time { return time.Date(2026, 1, 1, 0, i, 0, 0, time.UTC) }
	ev := func(i int) Event {
		return Event{Type: EventNormal, Reason: ReasonSuccessfulCreate, Message: "e" + string(rune('a'+i)), Time: at(i)}
	}
	keys := []string{EventKey(KindJob, "ns", "j"), EventKey(KindJob, "ns", "j-1"), EventKey(KindJob, "ns", "i")}
	tests := []struct {
		name  string
		adds  int
		ring  int
		wantN int
	}{
		{"below capacity", 2, 3, 2},
		{"at capacity", 3, 3, 3},
		{"over capacity keeps the newest", 7, 3, 3},
		{"ring of one", 4, 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := OpenStore(t.TempDir(), StoreOptions{LockTimeout: time.Second, EventsPerObject: tc.ring})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for i := range tc.adds {
				if err := s.Update(func(tx *Tx) error {
					for n, k := range keys {
						if err := tx.AddEvent(k, ev(i+n)); err != nil {
							return err
						}
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
			}
			for n, k := range keys {
				var want []Event
				for i := tc.adds - tc.wantN; i < tc.adds; i++ {
					want = append(want, ev(i+n))
				}
				if got := readEvents(t, s, k); !reflect.DeepEqual(got, want) {
					t.Errorf("%s: events %v, want %v", k, got, want)
				}
			}
			if err := s.Update(func(tx *Tx) error {
				b, _ := tx.bucket(KindEvent)
				if err := b.Put(binary.BigEndian.AppendUint64(eventPrefix(keys[0]), 1), mustJSON(t, ev(9))); err != nil {
					return err
				}
				return tx.DeleteEvents(keys[0])
			}); err != nil {
				t.Fatal(err)
			}
			if got := readEvents(t, s, keys[0]); len(got) != 0 {
				t.Errorf("%s: events %v after DeleteEvents, want none", keys[0], got)
			}
			if got := readEvents(t, s, keys[1]); len(got) != tc.wantN {
				t.Errorf("%s: %d events after deleting %s's, want %d", keys[1], len(got), keys[0], tc.wantN)
			}
		})
	}
}

func readEvents(t *testing.T, s *Store, key string) []Event {
	t.Helper()
	var evs []Event
	if err := s.View(func(tx *Tx) (err error) { evs, err = tx.Events(key); return err }); err != nil {
		t.Fatal(err)
	}
	return evs
}
