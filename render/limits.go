package render

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
)

// budget is what one Render may spend: its documents and their bytes (the
// Data it returns), the bytes kustomize loads, and its time (ctx). The
// counters stop the render early, from any worker; the documents kept are
// decided afterwards, in order, by cut, so the result does not depend on
// which worker went over first.
type budget struct {
	ctx       context.Context
	opts      *Options
	docs, out atomic.Int64 // documents rendered so far and their Data bytes
	read      atomic.Int64 // bytes kustomize loaded so far (each load counts)
}

// errTimeout is the cause of a context that Options.Timeout ended.
var errTimeout = errors.New("render timeout")

// spend counts rendered documents.
func (b *budget) spend(docs []Document) {
	n := 0
	for _, d := range docs {
		n += len(d.Data)
	}
	b.docs.Add(int64(len(docs)))
	b.out.Add(int64(n))
}

// stopped reports whether the render must not start more work: its context
// ended, or it has rendered more than it may return.
func (b *budget) stopped() bool {
	o := b.opts
	return b.ctx.Err() != nil ||
		o.MaxDocuments > 0 && b.docs.Load() > int64(o.MaxDocuments) ||
		o.MaxTotalBytes > 0 && b.out.Load() > o.MaxTotalBytes
}

// load counts n bytes loaded by kustomize, and refuses them when the
// render's context ended or the loads went over Options.MaxTotalBytes.
func (b *budget) load(n int64) error {
	if err := b.ctx.Err(); err != nil {
		return b.ended()
	}
	if max := b.opts.MaxTotalBytes; max > 0 && b.read.Add(n) > max {
		return fmt.Errorf("%w: kustomize loaded more than %s (the same file counts each time it is loaded); raise --render-max-mb", ErrLimit, mib(max))
	}
	return nil
}

// ended is the error for a render whose context ended: ErrLimit naming
// --render-timeout when Options.Timeout ended it, else the context's cause.
func (b *budget) ended() error {
	if cause := context.Cause(b.ctx); !errors.Is(cause, errTimeout) {
		return cause
	}
	return fmt.Errorf("%w: the render took longer than %s; raise --render-timeout", ErrLimit, b.opts.Timeout)
}

// cut keeps the documents within Options.MaxDocuments and MaxTotalBytes, in
// order; when some are over, the rest are replaced by one error document
// naming the limit and the flag that raises it.
func (b *budget) cut(docs []Document) []Document {
	o := b.opts
	var n int64
	for i, d := range docs {
		n += int64(len(d.Data))
		switch {
		case o.MaxDocuments > 0 && i >= o.MaxDocuments:
			return append(docs[:i:i], errDoc(d.Origin.File, fmt.Errorf(
				"%w: more than %d documents; raise --render-max-documents", ErrLimit, o.MaxDocuments)))
		case o.MaxTotalBytes > 0 && n > o.MaxTotalBytes:
			return append(docs[:i:i], errDoc(d.Origin.File, fmt.Errorf(
				"%w: the documents total more than %s; raise --render-max-mb", ErrLimit, mib(o.MaxTotalBytes))))
		}
	}
	return docs
}

func mib(n int64) string {
	if n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
