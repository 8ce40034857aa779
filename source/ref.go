package source

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/go-git/go-git/v5/plumbing"
)

// Ref says which revision of a repository to fetch. Exactly one field is
// set.
type Ref struct {
	// Branch is a branch name ("main"), followed as it moves.
	Branch string
	// Tag is a tag name ("v1.2.3").
	Tag string
	// SemVer is a range over tags (">=1.2.0 <2.0.0", "~1.4", "1.x"): the
	// highest tag that parses as a semantic version ("v" prefix allowed)
	// and matches is used.
	SemVer string
	// Commit is a full 40-hex commit hash. The cache keeps the whole
	// history for it, and a commit already fetched needs no network.
	Commit string
	// Name is a full ref name ("refs/pull/7/head"), "HEAD" (the server's
	// default branch), or a short name tried as a branch first and then as
	// a tag, like git does.
	Name string
}

var hexCommit = regexp.MustCompile(`^[0-9a-f]{40}$`)

// ParseRef reads the command-line form of a ref: "branch:NAME", "tag:NAME",
// "semver:RANGE", "commit:HASH", "refs/heads/NAME", "refs/tags/NAME",
// another "refs/..." name, a 40-hex hash (a commit), a semver range (any
// string with one of "<>=~^*|, " or ending in ".x"), or else a name tried as
// a branch and then as a tag.
func ParseRef(s string) (Ref, error) {
	s = strings.TrimSpace(s)
	kinds := []struct {
		prefix string
		set    func(v string) Ref
	}{
		{"branch:", func(v string) Ref { return Ref{Branch: v} }},
		{"tag:", func(v string) Ref { return Ref{Tag: v} }},
		{"semver:", func(v string) Ref { return Ref{SemVer: v} }},
		{"commit:", func(v string) Ref { return Ref{Commit: v} }},
		{"refs/heads/", func(v string) Ref { return Ref{Branch: v} }},
		{"refs/tags/", func(v string) Ref { return Ref{Tag: v} }},
	}
	var r Ref
	matched := false
	for _, k := range kinds {
		if v, ok := strings.CutPrefix(s, k.prefix); ok {
			r, matched = k.set(v), true
			break
		}
	}
	switch {
	case matched:
	case strings.HasPrefix(s, "refs/"):
		r = Ref{Name: s}
	case hexCommit.MatchString(strings.ToLower(s)):
		r = Ref{Commit: strings.ToLower(s)}
	case strings.ContainsAny(s, "<>=~^*|, ") || strings.HasSuffix(s, ".x"):
		r = Ref{SemVer: s}
	default:
		r = Ref{Name: s}
	}
	if err := r.validate(); err != nil {
		return Ref{}, err
	}
	return r, nil
}

// String renders the ref for messages: "branch main", "tag v1",
// "semver >=1.0.0", "commit <hash>", "ref NAME".
func (r Ref) String() string {
	switch {
	case r.Branch != "":
		return "branch " + r.Branch
	case r.Tag != "":
		return "tag " + r.Tag
	case r.SemVer != "":
		return "semver " + r.SemVer
	case r.Commit != "":
		return "commit " + r.Commit
	case r.Name != "":
		return "ref " + r.Name
	}
	return "no ref"
}

func (r Ref) validate() error {
	set := 0
	for _, v := range []string{r.Branch, r.Tag, r.SemVer, r.Commit, r.Name} {
		if v != "" {
			set++
		}
	}
	if set != 1 {
		return fmt.Errorf("%w: ref: set exactly one of branch, tag, semver, commit or name (got %d)", ErrInvalidOptions, set)
	}
	switch {
	case r.SemVer != "":
		if _, err := semver.NewConstraint(r.SemVer); err != nil {
			return fmt.Errorf("%w: ref: semver range %q: %v", ErrInvalidOptions, r.SemVer, err)
		}
	case r.Commit != "":
		if !hexCommit.MatchString(r.Commit) {
			return fmt.Errorf("%w: ref: commit %q is not a full 40-character lowercase hex hash", ErrInvalidOptions, r.Commit)
		}
	default:
		name := r.Branch + r.Tag + r.Name
		full := name
		if !strings.HasPrefix(full, "refs/") {
			full = "refs/heads/" + name
		}
		if err := plumbing.ReferenceName(full).Validate(); err != nil || strings.HasPrefix(name, "-") {
			return fmt.Errorf("%w: ref: %q is not a valid ref name", ErrInvalidOptions, name)
		}
	}
	return nil
}

// resolved is a ref matched against the server's advertisement.
type resolved struct {
	// name is the full remote ref name ("refs/heads/main").
	name plumbing.ReferenceName
	// short is the ref part of the revision ("main", "v1.2.3").
	short string
	// hash is what the ref points at (a tag object for annotated tags).
	hash plumbing.Hash
}

// resolve picks the remote ref r names among refs (an advertisement with
// peeled tags appended).
func (r Ref) resolve(refs []*plumbing.Reference) (resolved, error) {
	byName := map[plumbing.ReferenceName]plumbing.Hash{}
	var head *plumbing.Reference
	for _, ref := range refs {
		if ref.Name() == plumbing.HEAD {
			head = ref
		}
		if ref.Type() == plumbing.HashReference {
			byName[ref.Name()] = ref.Hash()
		}
	}
	if r.Name == "HEAD" {
		return resolveHead(head, byName)
	}
	try := func(names ...string) (resolved, bool) {
		for _, n := range names {
			if h, ok := byName[plumbing.ReferenceName(n)]; ok {
				return resolved{name: plumbing.ReferenceName(n), short: plumbing.ReferenceName(n).Short(), hash: h}, true
			}
		}
		return resolved{}, false
	}
	var (
		res resolved
		ok  bool
	)
	switch {
	case r.Branch != "":
		res, ok = try("refs/heads/" + r.Branch)
	case r.Tag != "":
		res, ok = try("refs/tags/" + r.Tag)
	case r.Name != "" && strings.HasPrefix(r.Name, "refs/"):
		res, ok = try(r.Name)
		res.short = r.Name
	case r.Name != "":
		res, ok = try("refs/heads/"+r.Name, "refs/tags/"+r.Name)
	case r.SemVer != "":
		return r.resolveSemVer(byName)
	}
	if !ok {
		return resolved{}, fmt.Errorf("%w: %s not found on the server", ErrUnknownRef, r)
	}
	return res, nil
}

func (r Ref) resolveSemVer(byName map[plumbing.ReferenceName]plumbing.Hash) (resolved, error) {
	c, err := semver.NewConstraint(r.SemVer)
	if err != nil {
		return resolved{}, fmt.Errorf("%w: semver range %q: %v", ErrInvalidOptions, r.SemVer, err)
	}
	type cand struct {
		v    *semver.Version
		name plumbing.ReferenceName
	}
	var cands []cand
	for name := range byName {
		tag, ok := strings.CutPrefix(string(name), "refs/tags/")
		if !ok || strings.HasSuffix(tag, "^{}") {
			continue
		}
		v, err := semver.NewVersion(tag)
		if err != nil || !c.Check(v) {
			continue
		}
		cands = append(cands, cand{v, name})
	}
	if len(cands) == 0 {
		return resolved{}, fmt.Errorf("%w: no tag matches semver range %q", ErrUnknownRef, r.SemVer)
	}
	sort.Slice(cands, func(i, j int) bool {
		if !cands[i].v.Equal(cands[j].v) {
			return cands[i].v.GreaterThan(cands[j].v)
		}
		return cands[i].name > cands[j].name
	})
	best := cands[0].name
	return resolved{name: best, short: best.Short(), hash: byName[best]}, nil
}

// resolveHead follows the server's HEAD (its default branch): the revision
// names the branch when the server says which one it is, else "HEAD".
func resolveHead(head *plumbing.Reference, byName map[plumbing.ReferenceName]plumbing.Hash) (resolved, error) {
	if head == nil {
		return resolved{}, fmt.Errorf("%w: the server advertises no HEAD", ErrUnknownRef)
	}
	if head.Type() == plumbing.SymbolicReference {
		h, ok := byName[head.Target()]
		if !ok {
			return resolved{}, fmt.Errorf("%w: HEAD points at %s, which does not exist", ErrUnknownRef, head.Target())
		}
		return resolved{name: head.Target(), short: head.Target().Short(), hash: h}, nil
	}
	return resolved{name: plumbing.HEAD, short: "HEAD", hash: head.Hash()}, nil
}
