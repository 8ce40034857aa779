package render

import (
	"errors"
	"io/fs"
	"os"
	"strings"

	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// lineIndex finds the line of a kustomize output object in its source file.
// Files are read and split once per Render call.
type lineIndex map[string][]objectLine

type objectLine struct {
	kind, name string
	line       int
}

// find returns the line in file of the object of that kind whose name is, or
// is contained in, the rendered name (kustomize adds prefixes and suffixes);
// the longest such name wins, and a kind that appears once in the file is
// taken whatever its name. 0 when it cannot tell.
func (ix lineIndex) find(file, kind, name string) int {
	objs, ok := ix[file]
	if !ok {
		objs = indexFile(file)
		ix[file] = objs
	}
	best, bestLen, ofKind, kindLine := 0, -1, 0, 0
	for _, o := range objs {
		if o.kind != kind {
			continue
		}
		ofKind++
		kindLine = o.line
		if o.name == name {
			return o.line
		}
		if o.name != "" && strings.Contains(name, o.name) && len(o.name) > bestLen {
			best, bestLen = o.line, len(o.name)
		}
	}
	if best == 0 && ofKind == 1 {
		return kindLine
	}
	return best
}

func indexFile(file string) []objectLine {
	data, err := os.ReadFile(file)
	if err != nil || isBinary(data) {
		return nil
	}
	var out []objectLine
	for _, c := range splitYAML(data) {
		for _, d := range expandList(Origin{Line: c.line}, c.data) {
			kind, name := head(d.Data)
			if kind != "" {
				out = append(out, objectLine{kind: kind, name: name, line: d.Origin.Line})
			}
		}
	}
	return out
}

// head returns an object's kind and metadata.name without decoding the rest
// (a node tree does not expand aliases, so alias bombs cost nothing here).
func head(data []byte) (kind, name string) {
	var root kyaml.Node
	if len(data) == 0 || kyaml.Unmarshal(data, &root) != nil || len(root.Content) != 1 {
		return "", ""
	}
	top := root.Content[0]
	if top.Kind != kyaml.MappingNode {
		return "", ""
	}
	if md, _ := mapValue(top, "metadata"); md != nil && md.Kind == kyaml.MappingNode {
		name = scalar(md, "name")
	}
	return scalar(top, "kind"), name
}

// unwrapPath drops the operation and path of an *fs.PathError (the caller
// names the path itself), keeping the cause ("no such file or directory").
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
