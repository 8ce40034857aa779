package render

import (
	"fmt"
	"os"
	"path/filepath"
)

// FindRoot returns the root (the fence) for path, as an absolute directory:
// root when given, which must then hold path; else the Git work tree holding
// path; else path itself (its directory for a file). The current directory
// plays no part, so that a path renders the same from anywhere.
func FindRoot(path, root string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("path %s: %w", path, err)
	}
	if root != "" {
		r, err := filepath.Abs(root)
		if err != nil {
			return "", fmt.Errorf("root %s: %w", root, err)
		}
		if !within(r, abs) && !within(evalOr(r), evalOr(abs)) {
			return "", fmt.Errorf("path %s is outside the root %s: name a root that holds it", path, root)
		}
		return r, nil
	}
	dir := abs
	if fi, err := os.Stat(abs); err == nil && !fi.IsDir() {
		dir = filepath.Dir(abs)
	}
	if wt := gitWorkTree(dir); wt != "" {
		return wt, nil
	}
	return dir, nil
}

// gitWorkTree returns the nearest directory at or above dir that holds a
// .git entry (a directory, or the file of a linked work tree), or "".
func gitWorkTree(dir string) string {
	for d := dir; ; {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		up := filepath.Dir(d)
		if up == d {
			return ""
		}
		d = up
	}
}

// boundary is the directory a kustomization in dir may not load from
// outside of: the Render call's root when it holds dir, else dir's own
// root as FindRoot finds it (its Git work tree, else dir itself).
func (r *renderer) boundary(dir string) string {
	if within(r.base, dir) {
		return r.base
	}
	if wt := gitWorkTree(dir); wt != "" {
		return wt
	}
	return dir
}

// rootName names the load boundary for messages, with what to do when
// there is no Git work tree and no --root.
func (r *renderer) rootName(bound string) string {
	name := r.origin(bound)
	if name == "." {
		name = filepath.ToSlash(bound)
		if r.opts.Root != "" {
			name = filepath.ToSlash(r.opts.Root)
		}
	}
	if gitWorkTree(bound) == "" {
		return name + " (no Git work tree holds it: pass --root DIR, a directory holding the bases too)"
	}
	return name
}
