package source

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// checkLocalLinks refuses a local directory with a symlink that resolves
// outside bound (the Git working tree's root, or dir itself for a plain
// directory), as a Git checkout refuses one that resolves outside the
// repository (ErrUnsafeSymlink): the directory is handed out as it is, and
// whatever reads it would follow the link. Dangling links are harmless. A
// link to a directory elsewhere inside bound is followed and checked too.
func checkLocalLinks(ctx context.Context, dir, bound string) error {
	realBound, err := filepath.EvalSymlinks(bound)
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("%s: %w", dir, err)
	}
	c := &linkCheck{ctx: ctx, shown: dir, bound: realBound, walked: []string{realDir}}
	for queue := []string{realDir}; len(queue) > 0; queue = queue[1:] {
		more, err := c.walk(queue[0])
		if err != nil {
			return err
		}
		queue = append(queue, more...)
	}
	return nil
}

type linkCheck struct {
	ctx    context.Context
	shown  string   // the directory as the user named it, for errors
	bound  string   // real path nothing may resolve outside of
	walked []string // real directories walked or queued
}

// walk checks every symlink below root and returns the directories outside
// the walked ones that links lead to.
func (c *linkCheck) walk(root string) ([]string, error) {
	var more []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case c.ctx.Err() != nil:
			return c.ctx.Err()
		case d.IsDir() && d.Name() == ".git":
			return filepath.SkipDir
		case d.Type()&fs.ModeSymlink == 0:
			return nil
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			return nil //nolint:nilerr // dangling (or a loop): nothing to read through it
		}
		if !within(real, c.bound) {
			target, _ := os.Readlink(p)
			return fmt.Errorf("%w: %s -> %q resolves to %s, outside %s (remove the link or copy the file in)",
				ErrUnsafeSymlink, p, target, real, c.bound)
		}
		if st, err := os.Stat(real); err == nil && st.IsDir() && !c.seen(real) {
			c.walked = append(c.walked, real)
			more = append(more, real)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.shown, err)
	}
	return more, nil
}

func (c *linkCheck) seen(real string) bool {
	for _, w := range c.walked {
		if within(real, w) {
			return true
		}
	}
	return false
}

// within reports whether the cleaned absolute path p is root or below it.
func within(p, root string) bool {
	return p == root || strings.HasPrefix(p, strings.TrimSuffix(root, string(filepath.Separator))+string(filepath.Separator))
}
