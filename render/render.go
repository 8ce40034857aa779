package render

import (
	"errors"
	"io"
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
// caller reports it as an invalid result.
type Document struct {
	Origin Origin
	Data   []byte
	Err    error
}

// Options configures Render.
type Options struct {
	// Root bounds what kustomize may load and is the base of Origin.File.
	// Empty means the current directory.
	Root string
	// AllowRemoteBases lets kustomizations load remote (http, git) bases.
	AllowRemoteBases bool
	// Stdin is read for the path "-".
	Stdin io.Reader
	// MaxDocumentBytes bounds one document; larger ones become an error document.
	MaxDocumentBytes int
}

// DefaultOptions returns options with remote bases refused and an 8 MiB document limit.
func DefaultOptions() Options {
	return Options{MaxDocumentBytes: 8 << 20}
}

// ErrNotImplemented is temporary while the package is being written.
var ErrNotImplemented = errors.New("render: not implemented")

// Render renders every path in order and returns their documents.
func Render(paths []string, opts Options) ([]Document, error) {
	return nil, ErrNotImplemented
}
