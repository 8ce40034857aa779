package render

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// kustomize builds the kustomization in dir (kfile is its file name) with
// krusty: plugins off, loads restricted to the kustomization's own tree and,
// for bases, to the boundary (see boundary). Each resource becomes a document
// whose origin is the file it came from; a build failure is one error
// document for the kustomization file.
func (r *renderer) kustomize(dir, kfile string) []Document {
	kname := r.origin(filepath.Join(dir, kfile))
	abs, err := filepath.Abs(dir)
	if err != nil {
		return []Document{errDoc(kname, err)}
	}
	bound := r.boundary(abs)
	if !r.opts.AllowRemoteBases {
		if ref, in := findRemote(abs, bound, r.opts.MaxTotalBytes); ref != "" {
			return []Document{errDoc(r.origin(in), fmt.Errorf(
				"kustomize build %s: remote base %q: %w", r.origin(dir), ref, ErrRemoteBase))}
		}
	}
	fsys, err := newBoundedFS(abs, kfile, bound, r.opts.AllowRemoteBases, r.spent)
	if err != nil {
		return []Document{errDoc(kname, fmt.Errorf("kustomize build %s: %w", r.origin(dir), err))}
	}
	m, ok, err := r.build(fsys, abs)
	if !ok {
		return nil // the render's context ended; RenderContext reports it
	}
	if fsys.refused != nil {
		return []Document{errDoc(kname, fmt.Errorf("kustomize build %s: %s: %w", r.origin(dir),
			relTo(abs, fsys.refusedPath), fsys.refused))}
	}
	if fsys.violation != "" {
		err = fmt.Errorf("%s: %w %s; kustomize may only load below it", relTo(abs, fsys.violation),
			ErrOutsideRoot, r.rootName(bound))
		return []Document{errDoc(kname, fmt.Errorf("kustomize build %s: %w", r.origin(dir), err))}
	}
	if err != nil {
		return []Document{errDoc(kname, fmt.Errorf("kustomize build %s: %w",
			r.origin(dir), &cleanError{msg: r.relMessage(err.Error()), err: err}))}
	}
	docs := make([]Document, 0, m.Size())
	for _, res := range m.Resources() {
		docs = append(docs, r.resourceDoc(res, dir, kname, fsys.injected))
	}
	r.spent.spend(docs)
	return docs
}

// build runs krusty on its own goroutine so that the render returns when
// its context ends (ok false), even while kustomize transforms objects,
// which it cannot be told to stop; the abandoned build ends at its next
// load (boundedFS refuses loads once the context ended) or when it is done.
func (r *renderer) build(fsys *boundedFS, abs string) (resmap.ResMap, bool, error) {
	type built struct {
		m   resmap.ResMap
		err error
	}
	done := make(chan built, 1)
	go func() {
		m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fsys, abs)
		done <- built{m, err}
	}()
	select {
	case b := <-done:
		return b.m, true, b.err
	case <-r.spent.ctx.Done():
		return nil, false, nil
	}
}

// resourceDoc turns one kustomize output resource into a document; dir is
// the kustomization directory as given (origin paths are relative to it).
func (r *renderer) resourceDoc(res *resource.Resource, dir, kname string, strip bool) Document {
	o := Origin{File: kname}
	if org, err := res.GetOrigin(); err == nil && org != nil {
		switch {
		case org.Repo != "":
			o.File = org.Repo + "//" + org.Path
		case org.Path != "":
			p := filepath.Join(dir, filepath.FromSlash(org.Path))
			o = Origin{File: r.origin(p), Line: r.lines.find(p, res.GetKind(), res.GetName())}
		case org.ConfiguredIn != "":
			o.File = r.origin(filepath.Join(dir, filepath.FromSlash(org.ConfiguredIn)))
		}
	}
	if strip {
		if err := res.SetOrigin(nil); err != nil {
			return Document{Origin: o, Err: fmt.Errorf("%s/%s: remove origin annotation: %w", res.GetKind(), res.GetName(), err)}
		}
	}
	data, err := res.AsYAML()
	if err != nil {
		return Document{Origin: o, Err: fmt.Errorf("%s/%s: %w", res.GetKind(), res.GetName(), err)}
	}
	if err := r.checkSize(len(data)); err != nil {
		return Document{Origin: o, Err: err}
	}
	return Document{Origin: o, Data: data}
}

// relTo returns p relative to dir when it can, else p.
func relTo(dir, p string) string {
	if rel, err := filepath.Rel(dir, p); err == nil {
		return filepath.ToSlash(rel)
	}
	return p
}

// within reports whether p is root or below it (both absolute and clean).
func within(root, p string) bool {
	_, ok := relWithin(root, p)
	return ok
}

// relWithin returns p relative to root, and whether p is root or below it.
func relWithin(root, p string) (string, bool) {
	rel, err := filepath.Rel(root, p)
	return rel, err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// relMessage rewrites absolute paths below the base in a message to relative ones.
func (r *renderer) relMessage(msg string) string {
	for _, b := range []string{r.base, evalOr(r.base)} {
		msg = strings.ReplaceAll(msg, b+string(filepath.Separator), "")
		msg = strings.ReplaceAll(msg, "'"+b+"'", "'.'")
	}
	return cloneDir.ReplaceAllString(msg, "<remote>")
}

var cloneDir = regexp.MustCompile(regexp.QuoteMeta(filepath.Clean(os.TempDir())) + `/kustomize-[0-9]+`)

func evalOr(p string) string {
	if e, err := filepath.EvalSymlinks(p); err == nil {
		return e
	}
	return p
}

// cleanError is a kustomize error with absolute paths made relative; it
// unwraps to the original.
type cleanError struct {
	msg string
	err error
}

func (e *cleanError) Error() string { return e.msg }
func (e *cleanError) Unwrap() []error {
	return []error{ErrKustomize, e.err}
}

// boundedFS is the disk seen through a fence: reads outside the boundary are
// refused (and remembered), writes are refused, and the top kustomization
// file gets `buildMetadata: [originAnnotations]` so each resource names the
// file it came from.
type boundedFS struct {
	filesys.FileSystem
	bound, top  string
	topData     []byte
	injected    bool // originAnnotations was added by us (strip it from output)
	allowRemote bool
	violation   string
	spent       *budget // the render's context and load budget
	refused     error   // the first load the pre-load check refused (see load)
	refusedPath string
}

func newBoundedFS(dir, kfile, bound string, allowRemote bool, spent *budget) (*boundedFS, error) {
	top := filepath.Join(dir, kfile)
	raw, err := os.ReadFile(top)
	if err != nil {
		return nil, unwrapPath(err)
	}
	if err := spent.load(int64(len(raw))); err != nil {
		return nil, fmt.Errorf("%s: %w", kfile, err)
	}
	if err := checkYAML(raw); err != nil {
		return nil, fmt.Errorf("%s: %w", kfile, err)
	}
	data, injected, err := withOriginAnnotations(raw)
	if err != nil {
		data, injected = raw, false // let kustomize report the syntax error
	}
	return &boundedFS{FileSystem: filesys.MakeFsOnDisk(), bound: evalOr(bound), top: evalOr(top),
		topData: data, injected: injected, allowRemote: allowRemote, spent: spent}, nil
}

// withOriginAnnotations adds originAnnotations to a kustomization's buildMetadata.
func withOriginAnnotations(raw []byte) ([]byte, bool, error) {
	n, err := kyaml.Parse(string(raw))
	if err != nil {
		return nil, false, err
	}
	bm, err := n.Pipe(kyaml.Lookup("buildMetadata"))
	if err != nil {
		return nil, false, err
	}
	var have []string
	if bm != nil {
		for _, v := range bm.Content() {
			if v.Value == types.OriginAnnotations {
				return raw, false, nil
			}
			have = append(have, v.Value)
		}
	}
	list := kyaml.NewListRNode(append(have, types.OriginAnnotations)...)
	if err := n.PipeE(kyaml.SetField("buildMetadata", list)); err != nil {
		return nil, false, err
	}
	s, err := n.String()
	return []byte(s), true, err
}

// allowed reports whether p may be read, remembering the first refusal.
func (f *boundedFS) allowed(p string) bool {
	abs, err := filepath.Abs(p)
	if err != nil {
		return false
	}
	real := evalOr(abs)
	if within(f.bound, real) {
		return true
	}
	if f.allowRemote && inCloneDir(real) {
		return true
	}
	if f.violation == "" {
		f.violation = abs
	}
	return false
}

// inCloneDir reports whether p is inside a kustomize git clone
// ($TMPDIR/kustomize-*), which remote bases are read from.
func inCloneDir(p string) bool {
	tmp := evalOr(filepath.Clean(os.TempDir()))
	rel, ok := relWithin(tmp, p)
	if !ok {
		return false
	}
	first, _, _ := strings.Cut(filepath.ToSlash(rel), "/")
	return strings.HasPrefix(first, "kustomize-")
}

// isCloneDir reports whether p is a kustomize clone directory itself: a
// kustomize-* directory right below $TMPDIR.
func isCloneDir(p string) bool {
	abs, err := filepath.Abs(p)
	if err != nil || !inCloneDir(evalOr(abs)) {
		return false
	}
	return filepath.Dir(evalOr(abs)) == evalOr(filepath.Clean(os.TempDir()))
}

func (f *boundedFS) refuse(p string) error {
	return fmt.Errorf("%s: %w", p, ErrOutsideRoot)
}

func (f *boundedFS) ReadFile(p string) ([]byte, error) {
	if !f.allowed(p) {
		return nil, f.refuse(p)
	}
	if abs, err := filepath.Abs(p); err == nil && evalOr(abs) == f.top {
		return f.topData, nil
	}
	return f.load(p)
}

func (f *boundedFS) Open(p string) (filesys.File, error) {
	if !f.allowed(p) {
		return nil, f.refuse(p)
	}
	return f.FileSystem.Open(p)
}

func (f *boundedFS) IsDir(p string) bool { return f.allowed(p) && f.FileSystem.IsDir(p) }

func (f *boundedFS) Exists(p string) bool { return f.allowed(p) && f.FileSystem.Exists(p) }

func (f *boundedFS) ReadDir(p string) ([]string, error) {
	if !f.allowed(p) {
		return nil, f.refuse(p)
	}
	return f.FileSystem.ReadDir(p)
}

func (f *boundedFS) CleanedAbs(p string) (filesys.ConfirmedDir, string, error) {
	if !f.allowed(p) {
		return "", "", f.refuse(p)
	}
	return f.FileSystem.CleanedAbs(p)
}

func (f *boundedFS) Glob(pattern string) ([]string, error) {
	if !f.allowed(filepath.Dir(pattern)) {
		return nil, f.refuse(pattern)
	}
	return f.FileSystem.Glob(pattern)
}

var errReadOnly = errors.New("render: the file system is read-only")

func (f *boundedFS) Create(string) (filesys.File, error) { return nil, errReadOnly }
func (f *boundedFS) Mkdir(string) error                  { return errReadOnly }
func (f *boundedFS) MkdirAll(string) error               { return errReadOnly }

// RemoveAll lets kustomize remove its own git clones ($TMPDIR/kustomize-*,
// repospec.Cleaner after the build or a failed clone); nothing else.
func (f *boundedFS) RemoveAll(p string) error {
	if !isCloneDir(p) {
		return errReadOnly
	}
	return os.RemoveAll(p)
}
func (f *boundedFS) WriteFile(string, []byte) error { return errReadOnly }

func (f *boundedFS) Walk(p string, fn filepath.WalkFunc) error {
	if !f.allowed(p) {
		return f.refuse(p)
	}
	return f.FileSystem.Walk(p, fn)
}
