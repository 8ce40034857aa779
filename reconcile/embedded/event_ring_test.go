package embedded

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// cronJobRing returns the encoded events a CronJob's ring holds after n
// minutes of an every-minute schedule with a history of 3.
func cronJobRing(t testing.TB, n int) [][]byte {
	t.Helper()
	var out [][]byte
	add := func(reason, msg string, at time.Time) {
		data, err := encodeEvent(Event{Type: EventNormal, Reason: reason, Message: msg, Time: at})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, data)
	}
	for i := range n {
		at := t0.Add(time.Duration(i)*time.Minute + 100*time.Millisecond)
		add(ReasonSuccessfulCreate, fmt.Sprintf("Created job report-%d", 29540761+i), at)
		if i >= 3 {
			add(ReasonSuccessfulDelete, fmt.Sprintf("Deleted job report-%d", 29540761+i-3), at)
		}
		add(ReasonSawCompletedJob, fmt.Sprintf("Saw completed job: report-%d, condition: Complete", 29540761+i), at.Add(2*time.Second))
	}
	return out[max(0, len(out)-20):]
}

// encodeRingV1 is the ring as store version 3 wrote it.
func encodeRingV1(entries [][]byte) []byte {
	out := []byte{ringFormatV1}
	for _, e := range entries {
		out = binary.AppendUvarint(out, uint64(len(e)))
		out = append(out, e...)
	}
	return out
}

func TestEventRingCodec(t *testing.T) {
	full := cronJobRing(t, 10)
	tests := []struct {
		name    string
		entries [][]byte
	}{
		{"empty", nil},
		{"one", full[:1]},
		{"a CronJob's 20", full},
		{"unrelated", [][]byte{[]byte("abc"), []byte("xyz"), []byte(""), []byte("abcabc"), []byte("ab")}},
		{"a prefix of the one before", [][]byte{[]byte("abcdef"), []byte("abc"), []byte("abcdef"), []byte("def")}},
		{"same twice", [][]byte{full[0], full[0], full[0]}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data := encodeRing(tc.entries)
			got, err := decodeRing(data)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.entries) || (len(got) > 0 && !reflect.DeepEqual(got, tc.entries)) {
				t.Fatalf("decoded %q, want %q", got, tc.entries)
			}
			// Form 1, as version 3 wrote it, still reads the same.
			if got, err := decodeRing(encodeRingV1(tc.entries)); err != nil || len(got) != len(tc.entries) || (len(got) > 0 && !reflect.DeepEqual(got, tc.entries)) {
				t.Fatalf("form 1: decoded %q, %v", got, err)
			}
		})
	}
	v1, v2 := len(encodeRingV1(full)), len(encodeRing(full))
	if v2*3 > v1 {
		t.Errorf("a CronJob's ring of 20 takes %d bytes, form 1 %d: want under a third", v2, v1)
	}
}

func TestEventRingDamaged(t *testing.T) {
	good := encodeRing(cronJobRing(t, 2))
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"unknown form", []byte{0x07, 0}, "unknown event ring form"},
		{"truncated", good[:len(good)-3], "truncated"},
		{"base before the first", []byte{ringFormatV2, 1, 0, 0, 0}, "before the first"},
		{"keeps more than its base", []byte{ringFormatV2, 0, 2, 'a', 'b', 1, 2, 1, 0}, "more than its base"},
		{"huge base", append([]byte{ringFormatV2}, binary.AppendUvarint(nil, 1<<63)...), "truncated"},
		{"copies beyond the bound", ringBomb(100<<10, 50), "more than 4 MiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeRing(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}

// FuzzEventRing: any bytes decode to a ring or an error, never a panic, and
// a decoded ring encodes back to the same events.
func FuzzEventRing(f *testing.F) {
	f.Add(encodeRing(cronJobRing(f, 10)))
	f.Add(encodeRingV1(cronJobRing(f, 3)))
	f.Add([]byte{ringFormatV2, 0, 2, 'a', 'b', 1, 1, 1, 1, 'x'})
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := decodeRing(data)
		if err != nil {
			return
		}
		again, err := decodeRing(encodeRing(entries))
		if err != nil {
			t.Fatalf("re-encoded ring: %v", err)
		}
		if len(again) != len(entries) {
			t.Fatalf("re-encoded ring has %d events, want %d", len(again), len(entries))
		}
		for i := range entries {
			if !bytes.Equal(again[i], entries[i]) {
				t.Fatalf("event %d: %q, want %q", i, again[i], entries[i])
			}
		}
	})
}

// ringBomb is a ring of one event of size bytes and n copies of it, each a
// few bytes long.
func ringBomb(size, n int) []byte {
	out := []byte{ringFormatV2, 0}
	out = binary.AppendUvarint(out, uint64(size))
	out = append(out, make([]byte, size)...)
	for range n {
		out = append(out, 1)                          // base: the one before
		out = binary.AppendUvarint(out, uint64(size)) // keep it all
		out = append(out, 0, 0)                       // no suffix, no middle
	}
	return out
}
