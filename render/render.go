package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Origin is where a document came from.
type Origin struct {
	// File is slash-separated and relative to Options.Root when under it; "-" is stdin.
	File string
	// Line is the 1-based line of the document's first line in File (0 when
	// unknown, e.g. objects produced by kustomize transformers).
	Line int
}

// Document is one object's bytes (YAML or JSON) with its origin. Err is set
// instead of Data when the input could not be read as documents at all
// (binary file, kustomize error, too large): it is still one document, so the
// caller reports it as an invalid result. A file with no object at all is one
// Document with neither Data nor Err.
type Document struct {
	Origin Origin
	Data   []byte
	Err    error
}

// Options configures Render.
type Options struct {
	// Root bounds what kustomize may load and is the base of Origin.File.
	// Empty means FindRoot of the first path: the Git work tree holding it,
	// else the path itself (never the current directory).
	Root string
	// AllowRemoteBases lets kustomizations load remote (http, git) bases.
	AllowRemoteBases bool
	// Stdin is read for the path "-".
	Stdin io.Reader
	// MaxDocumentBytes bounds one document; larger ones become an error document.
	// Zero or less means no limit.
	MaxDocumentBytes int
	// MaxDocuments bounds the documents of one render (--render-max-documents);
	// those past it are replaced by one ErrLimit document. Zero or less means no limit.
	MaxDocuments int
	// MaxTotalBytes bounds the bytes of one render (--render-max-mb): the Data
	// of its documents, each file it reads, and the bytes kustomize loads
	// (each load counts). Zero or less means no limit.
	MaxTotalBytes int64
	// Timeout bounds one render (--render-timeout); zero means none.
	Timeout time.Duration
}

// DefaultOptions returns options with remote bases refused, an 8 MiB
// document limit, and a render of at most 100,000 documents, 256 MiB and
// 5 minutes.
func DefaultOptions() Options {
	return Options{MaxDocumentBytes: 8 << 20, MaxDocuments: 100_000, MaxTotalBytes: 256 << 20, Timeout: 5 * time.Minute}
}

// Errors carried by Document.Err (match them with errors.Is).
var (
	// ErrBinary: the file holds NUL bytes or invalid UTF-8.
	ErrBinary = errors.New("binary file, not YAML or JSON")
	// ErrTooLarge: a document is over Options.MaxDocumentBytes.
	ErrTooLarge = errors.New("document too large")
	// ErrRemoteBase: a kustomization names a remote base and remote bases are off.
	ErrRemoteBase = errors.New("remote bases are refused; pass --allow-remote-bases to allow them")
	// ErrOutsideRoot: a kustomization loads a file or base outside the root.
	ErrOutsideRoot = errors.New("outside the root")
	// ErrKustomize: kustomize could not build a kustomization.
	ErrKustomize = errors.New("kustomize build failed")
)

// Render is RenderContext without a context of its own.
func Render(paths []string, opts Options) ([]Document, error) {
	return RenderContext(context.Background(), paths, opts)
}

// RenderContext renders every path in order and returns their documents.
// Its error is for input that cannot be rendered at all (a path that does
// not exist, "-" without Options.Stdin) and for a ctx that ends (then no
// documents at all); everything inside a file or kustomization that is
// wrong is a Document with Err, and so is a render over Options.Timeout,
// MaxDocuments or MaxTotalBytes (ErrLimit). ctx is checked between files
// and by every load of a kustomize build; a build under way when it ends is
// abandoned (its goroutine finishes on its own; nothing of it is returned).
func RenderContext(ctx context.Context, paths []string, opts Options) ([]Document, error) {
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, opts.Timeout, errTimeout)
		defer cancel()
	}
	r, err := newRenderer(ctx, paths, opts)
	if err != nil {
		return nil, err
	}
	var docs []Document
	cur := ""
	for _, p := range paths {
		cur = p
		if r.spent.stopped() {
			break
		}
		d, err := r.renderPath(p)
		if err != nil {
			return nil, err
		}
		docs = append(docs, d...)
	}
	if ctx.Err() != nil {
		err := r.spent.ended()
		if !errors.Is(err, ErrLimit) {
			return nil, fmt.Errorf("render: %w", err)
		}
		docs = append(docs, errDoc(r.origin(cur), err))
	}
	return r.spent.cut(docs), nil
}

// renderer holds what one Render call shares between its paths.
type renderer struct {
	opts  Options
	base  string    // absolute root: the fence of kustomize loads and the base of Origin.File
	cwd   string    // only to make relative paths absolute
	lines lineIndex // origin files split for kustomize line lookups
	spent *budget
}

func newRenderer(ctx context.Context, paths []string, opts Options) (*renderer, error) {
	cwd, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("render: current directory: %w", err)
	}
	first := ""
	for _, p := range paths {
		if p != "-" {
			first = p
			break
		}
	}
	base := ""
	switch {
	case opts.Root != "":
		if base, err = filepath.Abs(opts.Root); err != nil {
			return nil, fmt.Errorf("render: root %s: %w", opts.Root, err)
		}
	case first != "":
		if base, err = FindRoot(first, ""); err != nil {
			return nil, fmt.Errorf("render: %w", err)
		}
	default: // standard input only: its origin is "-"
		base = cwd
	}
	r := &renderer{opts: opts, base: base, cwd: cwd, lines: lineIndex{}}
	r.spent = &budget{ctx: ctx, opts: &r.opts}
	return r, nil
}

func (r *renderer) renderPath(p string) ([]Document, error) {
	if p == "-" {
		if r.opts.Stdin == nil {
			return nil, errors.New("render: path -: no standard input given")
		}
		data, err := r.readAll(r.opts.Stdin, -1)
		if err != nil {
			return []Document{errDoc("-", fmt.Errorf("read standard input: %w", err))}, nil
		}
		return r.documents("-", data, false), nil
	}
	fi, err := os.Stat(p)
	if err != nil {
		return nil, fmt.Errorf("render: path %s: %w", p, unwrapPath(err))
	}
	if fi.IsDir() {
		if k := kustomizationFile(p); k != "" {
			return r.kustomize(p, k), nil
		}
		return r.walk(p), nil
	}
	if isKustomizationName(filepath.Base(p)) {
		return r.kustomize(filepath.Dir(p), filepath.Base(p)), nil
	}
	return r.renderFile(p), nil
}

// renderFile reads one file and splits it into documents; nothing once the
// render has stopped (see budget.stopped).
func (r *renderer) renderFile(p string) []Document {
	if r.spent.stopped() {
		return nil
	}
	name := r.origin(p)
	data, err := r.readFile(p)
	if err != nil {
		return []Document{errDoc(name, fmt.Errorf("read %s: %w", name, unwrapPath(err)))}
	}
	return r.documents(name, data, strings.EqualFold(filepath.Ext(p), ".json"))
}

// readFile is os.ReadFile that refuses a file larger than
// Options.MaxTotalBytes before reading it.
func (r *renderer) readFile(p string) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	size := int64(-1)
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	return r.readAll(f, size)
}

// readAll reads rd (size bytes when known, else -1) up to Options.MaxTotalBytes.
func (r *renderer) readAll(rd io.Reader, size int64) ([]byte, error) {
	limit := r.opts.MaxTotalBytes
	if limit > 0 {
		if size > limit {
			return nil, r.fileTooLarge()
		}
		rd = io.LimitReader(rd, limit+1)
	}
	buf := bytes.NewBuffer(make([]byte, 0, max(size+bytes.MinRead, 512)))
	if _, err := buf.ReadFrom(rd); err != nil {
		return nil, err
	}
	if limit > 0 && int64(buf.Len()) > limit {
		return nil, r.fileTooLarge()
	}
	return buf.Bytes(), nil
}

func (r *renderer) fileTooLarge() error {
	return fmt.Errorf("%w: the file is over %s; raise --render-max-mb", ErrLimit, mib(r.opts.MaxTotalBytes))
}

// documents turns one file's bytes into documents and counts them against
// the render's budget.
func (r *renderer) documents(name string, data []byte, isJSON bool) []Document {
	docs := r.split(name, data, isJSON)
	r.spent.spend(docs)
	return docs
}

// split turns one file's bytes into documents.
func (r *renderer) split(name string, data []byte, isJSON bool) []Document {
	if isBinary(data) {
		return []Document{errDoc(name, ErrBinary)}
	}
	var chunks []chunk
	if isJSON {
		chunks = splitJSON(data)
	} else {
		chunks = splitYAML(data)
	}
	if len(chunks) == 0 {
		return []Document{{Origin: Origin{File: name}}}
	}
	docs := make([]Document, 0, len(chunks))
	for _, c := range chunks {
		o := Origin{File: name, Line: c.line}
		if err := r.checkSize(len(c.data)); err != nil {
			docs = append(docs, Document{Origin: o, Err: err})
			continue
		}
		docs = append(docs, expandList(o, c.data)...)
	}
	return docs
}

func (r *renderer) checkSize(n int) error {
	if max := r.opts.MaxDocumentBytes; max > 0 && n > max {
		return fmt.Errorf("%w: %d bytes, over the limit of %d bytes", ErrTooLarge, n, max)
	}
	return nil
}

func errDoc(file string, err error) Document {
	return Document{Origin: Origin{File: file}, Err: err}
}

// origin names p for Origin.File: slash-separated and relative to the base
// when below it, else as given.
func (r *renderer) origin(p string) string {
	abs := p
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(r.cwd, p)
	}
	rel, ok := relWithin(r.base, abs)
	if !ok {
		return filepath.ToSlash(p)
	}
	return filepath.ToSlash(rel)
}
