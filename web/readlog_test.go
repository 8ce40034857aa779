package web

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// countingLog is a seekable log that counts the bytes read from it (no
// WriteTo: io.Copy must go through Read).
type countingLog struct {
	r    *bytes.Reader
	read int
}

func (c *countingLog) Seek(off int64, whence int) (int64, error) { return c.r.Seek(off, whence) }

func (c *countingLog) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.read += n
	return n, err
}

func (c *countingLog) Close() error { return nil }

// TestReadLogReadsOnlyItsTail: the logs page reads the last MaxLogBytes of a
// log file, not the whole file (a peer on --listen could ask for a 1 GiB
// log again and again).
func TestReadLogReadsOnlyItsTail(t *testing.T) {
	body := strings.Repeat("x", 4<<20) + "the end\n"
	log := &countingLog{r: bytes.NewReader([]byte(body))}
	ls := readLog(LogSource{Name: "pod/main", Open: func() (io.ReadCloser, error) { return log, nil }}, 1024)
	if !strings.HasSuffix(ls.Text, "the end\n") || len(ls.Text) != 1024 || !ls.Truncated {
		t.Errorf("text of %d bytes (truncated %v), want the last 1024 bytes, truncated", len(ls.Text), ls.Truncated)
	}
	if log.read > 64<<10 {
		t.Errorf("read %d bytes of a %d-byte log to show its last 1024", log.read, len(body))
	}
}
