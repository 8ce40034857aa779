package embedded

import (
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

func (r *eventReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.rest)
	if n <= 0 {
		r.err = errEventTruncated
		return 0
	}
	r.rest = r.rest[n:]
	return v
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

// An object's ring of events starts with its form, then holds each event,
// oldest first. ringFormatV1: each as a uvarint length and its compact
// form. ringFormatV2 (written since store version 4): each as a uvarint
// base, then, for base 0, a uvarint length and its compact form; for base
// k > 0, the event k places before it with its middle replaced: uvarint
// lengths of the prefix and suffix kept and of the new middle, then the
// middle. An object's events repeat each other but for a name, a count or
// the time ("Created job x-29540761" then "…62"): a ring of 20 takes a
// fifth of the bytes it takes in form 1, without a compressor's cost on
// every event.
const (
	ringFormatV1 = 0x01
	ringFormatV2 = 0x02
)

// ringMaxBase is how far back encodeRing looks for an event to derive one
// from: far enough for the rounds of a CronJob's 3 or 4 event kinds.
const ringMaxBase = 8

// encodeRing returns the ring of the encoded events.
func encodeRing(entries [][]byte) []byte {
	n := 1
	for _, e := range entries {
		n += binary.MaxVarintLen32 + len(e)
	}
	out := make([]byte, 1, n)
	out[0] = ringFormatV2
	for i, e := range entries {
		base, pre, suf := 0, 0, 0
		best := len(e) // bytes of the event itself
		for k := 1; k <= ringMaxBase && k <= i; k++ {
			p, s := commonEnds(entries[i-k], e)
			// Three small uvarints (about 3 bytes) beyond the middle.
			if cost := len(e) - p - s + 3; cost < best {
				base, pre, suf, best = k, p, s, cost
			}
		}
		out = binary.AppendUvarint(out, uint64(base))
		if base == 0 {
			out = binary.AppendUvarint(out, uint64(len(e)))
			out = append(out, e...)
			continue
		}
		mid := e[pre : len(e)-suf]
		out = binary.AppendUvarint(out, uint64(pre))
		out = binary.AppendUvarint(out, uint64(suf))
		out = binary.AppendUvarint(out, uint64(len(mid)))
		out = append(out, mid...)
	}
	return out
}

// commonEnds returns the lengths of the longest common prefix of a and b
// and of their longest common suffix in what the prefix leaves.
func commonEnds(a, b []byte) (int, int) {
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	s := 0
	for s < len(a)-p && s < len(b)-p && a[len(a)-1-s] == b[len(b)-1-s] {
		s++
	}
	return p, s
}

// maxRingSize bounds the events a ring decodes to: each entry of form 2 may
// copy one before it, so a damaged ring of a few kilobytes could otherwise
// decode to gigabytes. 20 events take a few kilobytes.
const maxRingSize = 4 << 20

var errRingTooLarge = errors.New("event ring: decodes to more than 4 MiB")

// decodeRing returns copies of the encoded events of a ring (none for nil).
func decodeRing(data []byte) ([][]byte, error) {
	if data == nil {
		return nil, nil
	}
	if len(data) == 0 || (data[0] != ringFormatV1 && data[0] != ringFormatV2) {
		return nil, errors.New("unknown event ring form")
	}
	r := eventReader{rest: data[1:]}
	var entries [][]byte
	// The events are copied into one buffer: a ring is decoded for every
	// event added, one allocation per event would be most of the garbage.
	buf := make([]byte, 0, 2*len(data))
	add := func(parts ...[]byte) {
		start := len(buf)
		for _, p := range parts {
			if len(buf)+len(p) > maxRingSize {
				r.err = errRingTooLarge
				return
			}
			buf = append(buf, p...)
		}
		// A grown buffer leaves the earlier entries in the old one: fine.
		entries = append(entries, buf[start:len(buf):len(buf)])
	}
	for len(r.rest) > 0 {
		base := uint64(0)
		if data[0] == ringFormatV2 {
			base = r.uvarint()
		}
		if base == 0 {
			e := r.field()
			if r.err != nil {
				return nil, r.err
			}
			if add(e); r.err != nil {
				return nil, r.err
			}
			continue
		}
		pre, suf, mid := r.uvarint(), r.uvarint(), r.field()
		if r.err != nil {
			return nil, r.err
		}
		if base > uint64(len(entries)) {
			return nil, errors.New("event ring: entry derived from one before the first")
		}
		from := entries[len(entries)-int(base)]
		if pre > uint64(len(from)) || suf > uint64(len(from))-pre {
			return nil, errors.New("event ring: entry keeps more than its base has")
		}
		if add(from[:pre], mid, from[uint64(len(from))-suf:]); r.err != nil {
			return nil, r.err
		}
	}
	return entries, nil
}
