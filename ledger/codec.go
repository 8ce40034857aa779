package ledger

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jobsync/jobsync/fleet"
)

// A run is stored as: key = its start in Unix milliseconds (8 bytes, big
// endian, so a cursor walks runs in time order) under a bucket per CronJob;
// value = a header byte, then uvarints and short strings:
//
//	header: bits 0-1 trigger, bits 2-3 result, bit 4 has scheduled time,
//	        bit 5 has end, bit 6 job name is "<cronjob>-<number>"
//	[scheduled: zigzag varint, start - scheduled in ms]
//	[end: uvarint, end - start in ms]
//	job: uvarint number, or uvarint length + bytes
//	reason: uvarint index in reasonCodes, or len(reasonCodes) + uvarint length + bytes
//
// A scheduled run that succeeded costs ~8 bytes of value.
const (
	flagScheduled = 1 << 4
	flagEnd       = 1 << 5
	flagNumbered  = 1 << 6
)

var (
	triggers = []fleet.Trigger{fleet.TriggerScheduled, fleet.TriggerCatchUp, fleet.TriggerManual}
	results  = []fleet.Result{fleet.ResultRunning, fleet.ResultSucceeded, fleet.ResultFailed}
	// reasonCodes are the common reasons, stored as one byte (index + 1).
	reasonCodes = []string{"", "BackoffLimitExceeded", "DeadlineExceeded", "OOMKilled", "PodFailurePolicy",
		"CompletionsReached", "SuccessPolicy", "MaxFailedIndexesExceeded", "FailedIndexes", "Replaced", "Deleted"}
)

var errCorrupt = errors.New("corrupt run record")

func runKey(start time.Time) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, uint64(start.UnixMilli()))
	return k
}

func keyTime(k []byte) time.Time {
	return time.UnixMilli(int64(binary.BigEndian.Uint64(k))).UTC()
}

func indexOf[T comparable](l []T, v T) int {
	for i, x := range l {
		if x == v {
			return i
		}
	}
	return 0
}

func encodeRun(r fleet.Run) []byte {
	h := byte(indexOf(triggers, r.Trigger)) | byte(indexOf(results, r.Result))<<2
	b := make([]byte, 1, 16+len(r.Reason))
	if !r.Scheduled.IsZero() {
		h |= flagScheduled
		b = binary.AppendVarint(b, r.Start.Sub(r.Scheduled).Milliseconds())
	}
	if !r.End.IsZero() {
		h |= flagEnd
		b = binary.AppendUvarint(b, uint64(max(0, r.End.Sub(r.Start).Milliseconds())))
	}
	if n, ok := jobNumber(r.CronJob, r.Job); ok {
		h |= flagNumbered
		b = binary.AppendUvarint(b, n)
	} else {
		b = appendString(b, r.Job)
	}
	if i := indexOf(reasonCodes, r.Reason); reasonCodes[i] == r.Reason {
		b = binary.AppendUvarint(b, uint64(i))
	} else {
		b = binary.AppendUvarint(b, uint64(len(reasonCodes)))
		b = appendString(b, r.Reason)
	}
	b[0] = h
	return b
}

func decodeRun(ns, cronJob string, key, v []byte) (fleet.Run, error) {
	if len(key) != 8 || len(v) < 2 {
		return fleet.Run{}, errCorrupt
	}
	h := v[0]
	d := decoder{b: v[1:]}
	r := fleet.Run{Namespace: ns, CronJob: cronJob, Start: keyTime(key)}
	if int(h&3) >= len(triggers) || int(h>>2&3) >= len(results) {
		return r, errCorrupt
	}
	r.Trigger, r.Result = triggers[h&3], results[h>>2&3]
	if h&flagScheduled != 0 {
		r.Scheduled = r.Start.Add(-time.Duration(d.varint()) * time.Millisecond)
	}
	if h&flagEnd != 0 {
		r.End = r.Start.Add(time.Duration(d.uvarint()) * time.Millisecond)
	}
	if h&flagNumbered != 0 {
		r.Job = cronJob + "-" + strconv.FormatUint(d.uvarint(), 10)
	} else {
		r.Job = d.string()
	}
	switch c := d.uvarint(); {
	case c < uint64(len(reasonCodes)):
		r.Reason = reasonCodes[c]
	case c == uint64(len(reasonCodes)):
		r.Reason = d.string()
	default:
		d.err = true
	}
	if d.err {
		return r, errCorrupt
	}
	return r, nil
}

// jobNumber is the number of a Job named "<cronjob>-<number>" (the CronJob
// controller's names: minutes since the epoch).
func jobNumber(cronJob, job string) (uint64, bool) {
	s, ok := strings.CutPrefix(job, cronJob+"-")
	if !ok || s == "" || s[0] == '0' {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

type decoder struct {
	b   []byte
	err bool
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = true
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err || uint64(len(d.b)) < n {
		d.err = true
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
