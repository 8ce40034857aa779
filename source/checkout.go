package source

import (
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	git "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// treeWriter writes a Git tree to disk, refusing unsafe names and symlinks
// and counting bytes against a limit.
type treeWriter struct {
	repo    *git.Repository
	limit   int64
	written int64
	recurse bool
	// sub fetches a submodule's commit and returns its published tree.
	sub     func(path string, commit plumbing.Hash) (string, error)
	skipped []string
	links   []string // symlinks written, relative to the root
}

func (w *treeWriter) write(tree *object.Tree, root, rel string) error {
	if err := w.writeDir(tree, root, rel); err != nil {
		return err
	}
	return w.checkLinks(root)
}

func (w *treeWriter) writeDir(tree *object.Tree, root, rel string) error {
	for _, e := range tree.Entries {
		if err := safeName(e.Name); err != nil {
			return fmt.Errorf("%w: %q in %q: %v", ErrUnsafePath, e.Name, "/"+rel, err)
		}
		p := path.Join(rel, e.Name)
		dst := filepath.Join(root, filepath.FromSlash(p))
		var err error
		switch e.Mode {
		case filemode.Dir:
			err = w.dir(e.Hash, root, p, dst)
		case filemode.Regular, filemode.Deprecated:
			err = w.file(e.Hash, dst, privateFile)
		case filemode.Executable:
			err = w.file(e.Hash, dst, privateExec)
		case filemode.Symlink:
			err = w.symlink(e.Hash, p, dst)
		case filemode.Submodule:
			err = w.submodule(e.Hash, p, dst)
		default:
			err = fmt.Errorf("%w: %q has unsupported mode %s", ErrUnsafePath, p, e.Mode)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// safeName refuses tree entry names that could escape or confuse a
// checkout.
func safeName(n string) error {
	switch {
	case n == "" || n == "." || n == "..":
		return fmt.Errorf("reserved name")
	case strings.ContainsAny(n, "/\\\x00"):
		return fmt.Errorf("contains a path separator")
	case strings.EqualFold(n, ".git"):
		return fmt.Errorf("a .git entry could plant repository configuration")
	}
	return nil
}

func (w *treeWriter) dir(h plumbing.Hash, root, rel, dst string) error {
	t, err := w.repo.TreeObject(h)
	if err != nil {
		return fmt.Errorf("tree %q: %w", rel, err)
	}
	if err := os.Mkdir(dst, privateDir); err != nil {
		return fmt.Errorf("checkout: %w", err)
	}
	return w.writeDir(t, root, rel)
}

func (w *treeWriter) blob(h plumbing.Hash) (*object.Blob, error) {
	b, err := w.repo.BlobObject(h)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", h, err)
	}
	w.written += b.Size
	if w.limit > 0 && w.written > w.limit {
		return nil, fmt.Errorf("%w: the checkout exceeds --max-size %d bytes", ErrTooLarge, w.limit)
	}
	return b, nil
}

// open counts blob h against the limit and opens it for reading.
func (w *treeWriter) open(h plumbing.Hash) (io.ReadCloser, error) {
	b, err := w.blob(h)
	if err != nil {
		return nil, err
	}
	r, err := b.Reader()
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", h, err)
	}
	return r, nil
}

func (w *treeWriter) file(h plumbing.Hash, dst string, mode os.FileMode) error {
	r, err := w.open(h)
	if err != nil {
		return err
	}
	defer r.Close()
	if err := writeNew(dst, r, mode); err != nil {
		return fmt.Errorf("checkout: %w", err)
	}
	return nil
}

// writeNew creates dst, which must not exist, with mode and r's content.
func writeNew(dst string, r io.Reader, mode os.FileMode) error {
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, r)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

func (w *treeWriter) symlink(h plumbing.Hash, rel, dst string) error {
	r, err := w.open(h)
	if err != nil {
		return err
	}
	target, err := io.ReadAll(io.LimitReader(r, 4096))
	r.Close()
	if err != nil {
		return fmt.Errorf("blob %s: %w", h, err)
	}
	t := string(target)
	joined := path.Join(path.Dir(rel), t)
	if t == "" || path.IsAbs(t) || strings.Contains(t, "\\") || joined == ".." || strings.HasPrefix(joined, "../") {
		return fmt.Errorf("%w: %q -> %q", ErrUnsafeSymlink, rel, t)
	}
	if err := os.Symlink(t, dst); err != nil {
		return fmt.Errorf("checkout: %w", err)
	}
	w.links = append(w.links, rel)
	return nil
}

// checkLinks resolves every symlink once the whole tree is written: a chain
// of links that each look harmless may still lead outside.
func (w *treeWriter) checkLinks(root string) error {
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		return fmt.Errorf("checkout: %w", err)
	}
	for _, rel := range w.links {
		real, err := filepath.EvalSymlinks(filepath.Join(root, filepath.FromSlash(rel)))
		if err != nil {
			continue // dangling inside the tree: harmless
		}
		if real != realRoot && !strings.HasPrefix(real, realRoot+string(filepath.Separator)) {
			return fmt.Errorf("%w: %q resolves outside the repository", ErrUnsafeSymlink, rel)
		}
	}
	return nil
}

func (w *treeWriter) submodule(h plumbing.Hash, rel, dst string) error {
	if err := os.Mkdir(dst, privateDir); err != nil {
		return fmt.Errorf("checkout: %w", err)
	}
	if !w.recurse {
		w.skipped = append(w.skipped, rel)
		return nil
	}
	src, err := w.sub(rel, h)
	if err != nil {
		return err
	}
	return copyTree(src, dst)
}

// listSubmodules returns the gitlinks below tree (when they are skipped).
func (w *treeWriter) listSubmodules(tree *object.Tree, rel string) ([]string, error) {
	if w.recurse {
		return nil, nil
	}
	var out []string
	walker := object.NewTreeWalker(tree, true, nil)
	defer walker.Close()
	for {
		name, e, err := walker.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("tree: %w", err)
		}
		if e.Mode == filemode.Submodule {
			out = append(out, path.Join(rel, name))
		}
	}
}

// subFetcher returns the function that fetches a submodule of c: its URL
// comes from c's .gitmodules (relative URLs resolved against the parent's),
// and it is fetched into the same cache with the same credentials.
func (f *fetch) subFetcher(c *object.Commit) func(string, plumbing.Hash) (string, error) {
	return func(rel string, h plumbing.Hash) (string, error) {
		url, err := submoduleURL(c, rel, f.g.remote.display)
		if err != nil {
			return "", fmt.Errorf("%w %q: %w", ErrSubmodule, rel, err)
		}
		opts := f.g.opts
		opts.URL, opts.Ref, opts.Path, opts.Shallow, opts.Keyring = url, Ref{Commit: h.String()}, "", false, nil
		opts.Auth, err = f.subAuth(url)
		if err != nil {
			return "", fmt.Errorf("%w %q: %w", ErrSubmodule, rel, err)
		}
		sub, err := NewGit(opts)
		if err != nil {
			return "", fmt.Errorf("%w %q: %w", ErrSubmodule, rel, err)
		}
		if sub.cache.dir == f.g.cache.dir {
			return "", fmt.Errorf("%w %q: it points back at the repository itself", ErrSubmodule, rel)
		}
		art, err := sub.Fetch(f.ctx)
		if err != nil {
			return "", fmt.Errorf("%w %q: %w", ErrSubmodule, rel, err)
		}
		return art.Root, nil
	}
}

// subAuth is the Auth for a submodule at url: the parent's credentials when
// url has the origin of the parent's URL (same scheme, host and port), else
// none at all (a commit's .gitmodules may name any host; only the server
// settings that send no secret — CA bundle, known_hosts — carry over).
func (f *fetch) subAuth(url string) (Auth, error) {
	a := f.g.opts.Auth
	r, err := parseRemoteURL(url)
	if err != nil {
		return Auth{}, err
	}
	if r.origin() == f.g.remote.origin() {
		if a.Username == "" && a.Password == "" && f.g.remote.scheme != "ssh" {
			a.Username, a.Password = f.g.remote.user, f.g.remote.pass // from the parent's URL
		}
		return a, nil
	}
	if r.scheme == "ssh" {
		return Auth{}, fmt.Errorf("%s is not the origin of the repository (%s): no credentials are sent to it, and ssh needs a key",
			r.origin(), f.g.remote.origin())
	}
	return Auth{CABundle: a.CABundle, KnownHosts: a.KnownHosts, InsecureSkipHostKeyCheck: a.InsecureSkipHostKeyCheck}, nil
}

func submoduleURL(c *object.Commit, rel, parent string) (string, error) {
	file, err := c.File(".gitmodules")
	if err != nil {
		return "", fmt.Errorf(".gitmodules: %w", err)
	}
	text, err := file.Contents()
	if err != nil {
		return "", fmt.Errorf(".gitmodules: %w", err)
	}
	m := config.NewModules()
	if err := m.Unmarshal([]byte(text)); err != nil {
		return "", fmt.Errorf(".gitmodules: %w", err)
	}
	for _, s := range m.Submodules {
		if path.Clean(s.Path) != rel {
			continue
		}
		u := s.URL
		if strings.HasPrefix(u, "./") || strings.HasPrefix(u, "../") {
			u = resolveRelativeURL(parent, u)
		}
		if strings.HasPrefix(u, "file:") || strings.HasPrefix(u, "/") || strings.HasPrefix(u, "ext:") {
			return "", fmt.Errorf("url %q: only http(s), ssh and git urls are fetched", s.URL)
		}
		return u, nil
	}
	return "", fmt.Errorf(".gitmodules has no entry for %q", rel)
}

// resolveRelativeURL applies a "../x.git" submodule URL to the parent's URL
// the way git does: relative to the parent repository's path.
func resolveRelativeURL(parent, rel string) string {
	base := strings.TrimSuffix(parent, "/")
	for {
		switch {
		case strings.HasPrefix(rel, "./"):
			rel = rel[2:]
		case strings.HasPrefix(rel, "../"):
			rel = rel[3:]
			if i := strings.LastIndex(base, "/"); i >= 0 {
				base = base[:i]
			}
		default:
			return base + "/" + rel
		}
	}
}

// copyTree copies a published checkout (files, directories, symlinks).
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		switch {
		case rel == ".":
			return nil
		case d.Type()&os.ModeSymlink != 0:
			l, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(l, target)
		case d.IsDir():
			return os.Mkdir(target, privateDir)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		return writeNew(target, in, info.Mode().Perm())
	})
}
