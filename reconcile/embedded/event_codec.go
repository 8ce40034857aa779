package embedded

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"time"
)

// eventFormatV1 is the first byte of an event stored in the compact form:
// then the type, reason and message, each as a uvarint length and its
// bytes, then the time: eventTimeUTC and the Unix seconds (varint) and
// nanoseconds (uvarint) when its offset is zero, else eventTimeText and
// its RFC 3339 text as the other fields. Events written by earlier
// versions are JSON objects (first byte '{') and are still read.
const eventFormatV1 = 0x01

const (
	eventTimeUTC  = 'U'
	eventTimeText = 'T'
)

// encodeEvent returns the compact form of ev, about a third of its JSON:
// 20 events are kept for each of 10,000s of objects.
func encodeEvent(ev Event) ([]byte, error) {
	out := make([]byte, 1, 32+len(ev.Type)+len(ev.Reason)+len(ev.Message))
	out[0] = eventFormatV1
	for _, f := range []string{ev.Type, ev.Reason, ev.Message} {
		out = binary.AppendUvarint(out, uint64(len(f)))
		out = append(out, f...)
	}
	if _, off := ev.Time.Zone(); off == 0 && ev.Time.Year() >= 0 && ev.Time.Year() <= 9999 {
		// JSON writes it with "Z" and reads it back in UTC: the same here.
		out = append(out, eventTimeUTC)
		out = binary.AppendVarint(out, ev.Time.Unix())
		return binary.AppendUvarint(out, uint64(ev.Time.Nanosecond())), nil
	}
	t, err := ev.Time.MarshalText()
	if err != nil {
		return nil, err
	}
	out = append(out, eventTimeText)
	out = binary.AppendUvarint(out, uint64(len(t)))
	return append(out, t...), nil
}

var errEventTruncated = errors.New("truncated event")

// decodeEvent reads an event in the compact form or, as earlier versions
// wrote it, in JSON. Both give the same Event.
func decodeEvent(data []byte) (Event, error) {
	var ev Event
	if len(data) == 0 || data[0] != eventFormatV1 {
		err := json.Unmarshal(data, &ev)
		return ev, err
	}
	r := eventReader{rest: data[1:]}
	ev.Type, ev.Reason, ev.Message = string(r.field()), string(r.field()), string(r.field())
	if r.err != nil || len(r.rest) == 0 {
		return Event{}, errEventTruncated
	}
	kind := r.rest[0]
	r.rest = r.rest[1:]
	switch kind {
	case eventTimeUTC:
		sec, n := binary.Varint(r.rest)
		if n <= 0 {
			return Event{}, errEventTruncated
		}
		nsec, m := binary.Uvarint(r.rest[n:])
		if m <= 0 || nsec >= uint64(time.Second) {
			return Event{}, errEventTruncated
		}
		ev.Time, r.rest = time.Unix(sec, int64(nsec)).UTC(), r.rest[n+m:]
	case eventTimeText:
		t := r.field()
		if r.err != nil {
			return Event{}, r.err
		}
		if err := ev.Time.UnmarshalText(t); err != nil {
			return Event{}, err
		}
	default:
		return Event{}, errors.New("unknown event time form")
	}
	if len(r.rest) != 0 {
		return Event{}, errors.New("trailing bytes after event")
	}
	return ev, nil
}

// eventReader reads the length-prefixed fields of a compact event.
type eventReader struct {
	rest []byte
	err  error
}

func (r *eventReader) field() []byte {
	if r.err != nil {
		return nil
	}
	l, n := binary.Uvarint(r.rest)
	if n <= 0 || uint64(len(r.rest)-n) < l {
		r.err = errEventTruncated
		return nil
	}
	f := r.rest[n : n+int(l)]
	r.rest = r.rest[n+int(l):]
	return f
}

// ringFormatV1 is the first byte of an object's ring of events: then each
// event, oldest first, as a uvarint length and its compact form.
const ringFormatV1 = 0x01

// encodeRing returns the ring of the encoded events.
func encodeRing(entries [][]byte) []byte {
	n := 1
	for _, e := range entries {
		n += binary.MaxVarintLen32 + len(e)
	}
	out := make([]byte, 1, n)
	out[0] = ringFormatV1
	for _, e := range entries {
		out = binary.AppendUvarint(out, uint64(len(e)))
		out = append(out, e...)
	}
	return out
}

// decodeRing returns copies of the encoded events of a ring (none for nil).
func decodeRing(data []byte) ([][]byte, error) {
	if data == nil {
		return nil, nil
	}
	if len(data) == 0 || data[0] != ringFormatV1 {
		return nil, errors.New("unknown event ring form")
	}
	r := eventReader{rest: data[1:]}
	var entries [][]byte
	for len(r.rest) > 0 {
		e := r.field()
		if r.err != nil {
			return nil, r.err
		}
		entries = append(entries, bytes.Clone(e))
	}
	return entries, nil
}
