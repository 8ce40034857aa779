package render

import (
	"os"
	"path/filepath"
	"strings"

	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/yaml"
)

// kustRefs is every field of a kustomization that can name another file,
// directory or URL.
type kustRefs struct {
	Resources             []string  `json:"resources"`
	Bases                 []string  `json:"bases"`
	Components            []string  `json:"components"`
	PatchesStrategicMerge []string  `json:"patchesStrategicMerge"`
	Crds                  []string  `json:"crds"`
	Configurations        []string  `json:"configurations"`
	Generators            []string  `json:"generators"`
	Transformers          []string  `json:"transformers"`
	Validators            []string  `json:"validators"`
	Patches               []pathRef `json:"patches"`
	PatchesJSON6902       []pathRef `json:"patchesJson6902"`
	Replacements          []pathRef `json:"replacements"`
	OpenAPI               pathRef   `json:"openapi"`
	// Generators' file sources: kustomize's loader fetches an http(s) one
	// (loader.FileLoader.Load), so they are references like any other.
	ConfigMapGenerator []generatorSources `json:"configMapGenerator"`
	SecretGenerator    []generatorSources `json:"secretGenerator"`
}

// generatorSources are the file sources of a ConfigMap or Secret generator
// (in a kustomization's configMapGenerator/secretGenerator, or an inline
// generator configuration).
type generatorSources struct {
	Files []string `json:"files"`
	Envs  []string `json:"envs"`
	Env   string   `json:"env"`
}

// refs returns every source; a "key=source" file gives both the whole entry
// and the part after the first "=" (kustomize's ParseFileSource split), so
// that neither reading can hide a URL.
func (g generatorSources) refs() []string {
	out := append([]string{}, g.Envs...)
	if g.Env != "" {
		out = append(out, g.Env)
	}
	for _, f := range g.Files {
		out = append(out, f)
		if _, src, ok := strings.Cut(f, "="); ok {
			out = append(out, src)
		}
	}
	return out
}

type pathRef struct {
	Path string `json:"path"`
}

func (k *kustRefs) all() []string {
	var out []string
	for _, l := range [][]string{k.Resources, k.Bases, k.Components, k.PatchesStrategicMerge,
		k.Crds, k.Configurations, k.Generators, k.Transformers, k.Validators} {
		out = append(out, l...)
	}
	for _, l := range [][]pathRef{k.Patches, k.PatchesJSON6902, k.Replacements, {k.OpenAPI}} {
		for _, p := range l {
			if p.Path != "" {
				out = append(out, p.Path)
			}
		}
	}
	for _, g := range append(k.ConfigMapGenerator, k.SecretGenerator...) {
		out = append(out, g.refs()...)
	}
	// Inline generator and transformer configurations (YAML, not a path):
	// their own file sources.
	for _, l := range [][]string{k.Generators, k.Transformers} {
		for _, inline := range l {
			if !strings.Contains(inline, "\n") {
				continue
			}
			var g generatorSources
			if yaml.Unmarshal([]byte(inline), &g) == nil {
				out = append(out, g.refs()...)
			}
		}
	}
	return out
}

// findRemote follows the local bases of the kustomization in dir (within
// bound) and returns the first reference that names a remote location, with
// the kustomization file that names it. Unreadable or malformed files,
// files over maxBytes and alias bombs are left for kustomize, whose loads
// the pre-load check refuses (see boundedFS.load).
func findRemote(dir, bound string, maxBytes int64) (ref, in string) {
	seen := map[string]bool{}
	queue := []string{dir}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		if seen[d] || !within(bound, d) {
			continue
		}
		seen[d] = true
		k := kustomizationFile(d)
		if k == "" {
			continue
		}
		p := filepath.Join(d, k)
		if fi, err := os.Stat(p); err != nil || maxBytes > 0 && fi.Size() > maxBytes {
			continue
		}
		raw, err := os.ReadFile(p)
		if err != nil || checkYAML(raw) != nil {
			continue
		}
		var refs kustRefs
		if yaml.Unmarshal(raw, &refs) != nil {
			continue
		}
		for _, s := range refs.all() {
			local := filepath.Join(d, filepath.FromSlash(s))
			if isRemote(s, local) {
				return s, filepath.Join(d, k)
			}
			if fi, err := os.Stat(local); err == nil && fi.IsDir() {
				queue = append(queue, local)
			}
		}
	}
	return "", ""
}

// remotePrefixes are the forms kustomize treats as remote (git or HTTP).
var remotePrefixes = []string{"http://", "https://", "git@", "git::", "git://", "ssh://",
	"file://", "gh:", "github.com/", "github.com:", "gitlab.com/", "bitbucket.org/"}

// isRemote reports whether a kustomization reference s names a remote
// location; local is where it would be on disk. What kustomize itself would
// clone is remote whether or not it exists on disk, since kustomize tries a
// base as a git URL first (loader.FileLoader.New): URL forms, scp-like
// `user@host:path` and `github.com:org/repo`. Of the rest, references that
// exist on disk are local; ?ref= queries, `.git//` and `host.tld/org/repo`
// forms are remote.
func isRemote(s, local string) bool {
	s = strings.TrimSpace(s)
	if strings.ContainsAny(s, "\n") { // inline generator/patch configuration
		return false
	}
	lower := strings.ToLower(s)
	for _, p := range remotePrefixes {
		if strings.HasPrefix(lower, p) {
			return true
		}
	}
	if kustomizeClones(s) {
		return true
	}
	if _, err := os.Stat(local); err == nil {
		return false
	}
	if strings.Contains(s, "?ref=") || strings.Contains(s, "?version=") || strings.Contains(s, ".git//") {
		return true
	}
	first, _, more := strings.Cut(s, "/")
	if at := strings.Index(first, "@"); at > 0 && strings.Contains(first[at:], ":") {
		return true
	}
	return more && strings.Contains(first, ".") && first != "." && first != ".." &&
		!strings.HasPrefix(first, ".") && strings.Count(s, "/") >= 2
}

// kustomizeClones reports whether kustomize parses s as a git repository
// (its git.NewRepoSpecFromURL, which resource.Origin.Append calls and which
// decides between a clone and a local base), so that the guard and
// kustomize cannot disagree on a form.
func kustomizeClones(s string) (remote bool) {
	defer func() {
		if recover() != nil { // a parser bug must not let a remote through
			remote = true
		}
	}()
	return (&resource.Origin{}).Append(s).Repo != ""
}
