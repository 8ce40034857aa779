package render

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"sigs.k8s.io/kustomize/api/konfig"
)

// kustomizationFile returns the name of dir's kustomization file, or "".
func kustomizationFile(dir string) string {
	for _, n := range konfig.RecognizedKustomizationFileNames() {
		if fi, err := os.Stat(filepath.Join(dir, n)); err == nil && fi.Mode().IsRegular() {
			return n
		}
	}
	return ""
}

func isKustomizationName(name string) bool {
	for _, n := range konfig.RecognizedKustomizationFileNames() {
		if name == n {
			return true
		}
	}
	return false
}

// isManifestName reports whether a file found by a walk is rendered.
func isManifestName(name string) bool {
	if strings.HasPrefix(name, ".") || isKustomizationName(name) {
		return false
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".yaml", ".yml", ".json":
		return true
	}
	return false
}

// walk renders every manifest file below dir in plain-file mode, sorted by
// slash-separated path. Hidden files and directories are skipped, and so are
// kustomization files themselves; the other files of a kustomization
// subdirectory are rendered as they are (see the package documentation).
// Errors reading one entry become that entry's error document.
func (r *renderer) walk(dir string) []Document {
	type entry struct {
		key, path string
		err       error
	}
	var entries []entry
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p != dir || d == nil {
				entries = append(entries, entry{key: filepath.ToSlash(p), path: p, err: err})
			}
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if p != dir && strings.HasPrefix(name, ".") {
				return fs.SkipDir
			}
			return nil
		}
		if !isManifestName(name) {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 { // follow links to regular files only
			if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
				return nil
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		entries = append(entries, entry{key: filepath.ToSlash(p), path: p})
		return nil
	})
	sort.Slice(entries, func(i, j int) bool { return entries[i].key < entries[j].key })
	perFile := make([][]Document, len(entries))
	parallel(len(entries), func(i int) {
		if e := entries[i]; e.err != nil {
			perFile[i] = []Document{errDoc(r.origin(e.path), unwrapPath(e.err))}
		} else {
			perFile[i] = r.renderFile(e.path)
		}
	})
	n := 0
	for _, d := range perFile {
		n += len(d)
	}
	docs := make([]Document, 0, n)
	for _, d := range perFile {
		docs = append(docs, d...)
	}
	return docs
}

// parallel calls fn(0) ... fn(n-1) on up to GOMAXPROCS goroutines (reading
// and splitting files is independent per file) and waits for them.
func parallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				fn(i)
			}
		})
	}
	wg.Wait()
}
