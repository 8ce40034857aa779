package source

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// guardedStorage is a cache repository's storage whose incoming packs are
// spooled to a file and checked before go-git indexes them: go-git's
// indexer (packfile.Parser) inflates every object whole into memory, so a
// pack of a few kilobytes could otherwise claim gigabytes (a blob of zeros,
// or a delta that repeats its base). Every object, and every delta's
// result, must fit in limit (--max-size), and so must the pack itself.
type guardedStorage struct {
	*filesystem.Storage
	dir   string // where the spool file goes (the repository directory)
	limit int64
}

// PackfileWriter implements storer.PackfileWriter.
func (s *guardedStorage) PackfileWriter() (io.WriteCloser, error) {
	f, err := os.CreateTemp(s.dir, "incoming-pack-")
	if err != nil {
		return nil, cacheError(s.dir, err)
	}
	return &spool{s: s, f: f}, nil
}

// spool is an incoming pack on its way to the object storage.
type spool struct {
	s   *guardedStorage
	f   *os.File
	n   int64
	err error
}

func (w *spool) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	w.n += int64(len(p))
	if w.n > w.s.limit {
		w.err = fmt.Errorf("%w: the pack exceeds --max-size %d bytes", ErrTooLarge, w.s.limit)
		return 0, w.err
	}
	n, err := w.f.Write(p)
	if err != nil {
		w.err = err
	}
	return n, err
}

// Close checks the spooled pack and hands it to go-git's pack writer.
func (w *spool) Close() (err error) {
	defer os.Remove(w.f.Name())
	defer w.f.Close()
	if w.err != nil || w.n == 0 {
		return w.err
	}
	if _, err := w.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	if err := checkObjectSizes(w.f, w.s.limit); err != nil {
		return err
	}
	if _, err := w.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	pw, err := w.s.Storage.PackfileWriter()
	if err != nil {
		return err
	}
	if _, err := io.Copy(pw, w.f); err != nil {
		return errors.Join(err, pw.Close())
	}
	return pw.Close()
}

// checkObjectSizes reads a pack once, inflating each object into nothing,
// and refuses one whose size (a delta's: the size of its result) exceeds
// limit.
func checkObjectSizes(r io.ReadSeeker, limit int64) error {
	s := packfile.NewScanner(r)
	_, count, err := s.Header()
	if err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	for range count {
		oh, err := s.NextObjectHeader()
		if err != nil {
			return fmt.Errorf("pack: %w", err)
		}
		size, head := oh.Length, &deltaHead{}
		if _, _, err := s.NextObject(head); err != nil {
			return fmt.Errorf("pack: %w", err)
		}
		if oh.Type.IsDelta() {
			size = head.targetSize()
		}
		if size > limit || size < 0 {
			return fmt.Errorf("%w: the pack holds an object of %d bytes (inflated) at offset %d, over --max-size %d bytes",
				ErrTooLarge, size, oh.Offset, limit)
		}
	}
	return nil
}

// deltaHead keeps the first bytes of an object and discards the rest: a
// delta starts with two varints, its base's size and its result's size.
type deltaHead struct {
	b []byte
}

func (d *deltaHead) Write(p []byte) (int, error) {
	if room := 20 - len(d.b); room > 0 {
		d.b = append(d.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// targetSize decodes the second varint (-1 when the delta is cut short).
func (d *deltaHead) targetSize() int64 {
	b := d.b
	for i := range 2 {
		var v int64
		var shift uint
		for {
			if len(b) == 0 || shift > 56 {
				return -1
			}
			c := b[0]
			b = b[1:]
			v |= int64(c&0x7f) << shift
			shift += 7
			if c&0x80 == 0 {
				break
			}
		}
		if i == 1 {
			return v
		}
	}
	return -1
}
