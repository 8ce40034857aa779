package gate

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jobsync/jobsync/manifests"
	"github.com/jobsync/jobsync/policy"
	"github.com/jobsync/jobsync/render"
)

// ConfigFileName is the policy configuration FindConfig looks for.
const ConfigFileName = ".jobsync.yaml"

// ErrRejected is returned (wrapped) by Verdict.Err when some object has an
// error: the revision is used not at all.
var ErrRejected = errors.New("revision rejected")

// Options configures Run.
type Options struct {
	// Render options. Root empty means render.FindRoot of the first path;
	// MaxDocumentBytes bounds documents both when rendered and when checked.
	Render render.Options
	// Check options (Workers, SkipUnstructured); Each is called before the
	// policies; MaxDocumentBytes and DropLines are set by Run.
	Check manifests.Options
	// ConfigFile, when set, is the policy configuration (validate --config).
	ConfigFile string
	// Policy is used when ConfigFile is empty and FindConfig finds none;
	// nil means policy.DefaultConfig().
	Policy *policy.Config
	// Now anchors the schedule policies.
	Now time.Time
	// KeepObjects keeps each result's Unstructured form (to apply it);
	// otherwise only findings are kept. The typed form is always dropped.
	KeepObjects bool
}

// DefaultOptions returns render's and manifests' defaults.
func DefaultOptions() Options {
	return Options{Render: render.DefaultOptions(), Check: manifests.DefaultOptions()}
}

// Verdict is what Run found.
type Verdict struct {
	// Root is the absolute root of the run (see package doc).
	Root string
	// ConfigFile is the policy configuration used ("" for the defaults).
	ConfigFile string
	// Results has one entry per rendered document, in order.
	Results []manifests.Result
	// Invalid counts the results with an error.
	Invalid int
}

// Err returns nil when no object has an error, else ErrRejected wrapped
// with the count.
func (v Verdict) Err() error {
	if v.Invalid == 0 {
		return nil
	}
	return fmt.Errorf("%w: %d object(s) with errors", ErrRejected, v.Invalid)
}

// ConfigError is a policy configuration that cannot be read.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

// Run renders paths, checks every object as the API server would and
// applies the batch policies; ctx ends the render (render.Render). Its error is for input that cannot be judged
// at all (a missing path, a path outside Options.Render.Root, a bad policy
// configuration, a *ConfigError); findings are in the Verdict.
func Run(ctx context.Context, paths []string, opts Options) (Verdict, error) {
	var v Verdict
	if err := ctx.Err(); err != nil {
		return v, err
	}
	first := firstPath(paths)
	root, err := rootOf(paths, opts.Render.Root)
	if err != nil {
		return v, err
	}
	v.Root = root
	cfg, file, err := loadConfig(opts, first, root)
	if err != nil {
		return v, &ConfigError{Err: err}
	}
	v.ConfigFile = file
	docs, err := render.RenderContext(ctx, paths, opts.Render) // finds the same root
	if err != nil {
		return v, err
	}
	v.Results = manifests.Check(Inputs(docs), checkOptions(opts, cfg))
	for i := range v.Results {
		if !v.Results[i].Valid() {
			v.Invalid++
		}
	}
	return v, nil
}

// checkOptions applies the policies to each object as soon as it is
// checked, then drops its typed form and its line index (its findings keep
// their lines): with 10,000 objects, all of them at once would double a
// run's memory.
func checkOptions(opts Options, cfg policy.Config) manifests.Options {
	o := opts.Check
	o.MaxDocumentBytes = opts.Render.MaxDocumentBytes
	each, now, keep := o.Each, opts.Now, opts.KeepObjects
	o.Each = func(r *manifests.Result) {
		if each != nil {
			each(r)
		}
		policy.ApplyTo(r, cfg, now)
		r.Object = nil
		if !keep {
			r.Unstructured = nil
		}
	}
	o.DropLines = true
	return o
}

// Inputs turns rendered documents into manifests inputs.
func Inputs(docs []render.Document) []manifests.Input {
	in := make([]manifests.Input, len(docs))
	for i, d := range docs {
		in[i] = manifests.Input{File: d.Origin.File, Line: d.Origin.Line, Data: d.Data, Err: d.Err}
	}
	return in
}

func firstPath(paths []string) string {
	for _, p := range paths {
		if p != "-" {
			return p
		}
	}
	return ""
}

// rootOf is the run's root: render.FindRoot of the first path, and every
// other path must lie below a given root. Standard input alone has the
// given root, else none (file names are "-").
func rootOf(paths []string, given string) (string, error) {
	root := ""
	for _, p := range paths {
		if p == "-" {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("path %s: %w", p, unwrapPath(err))
		}
		r, err := render.FindRoot(p, given)
		if err != nil {
			return "", err
		}
		if root == "" {
			root = r
		}
	}
	if root == "" && given != "" {
		return filepath.Abs(given)
	}
	return root, nil
}

// unwrapPath drops the *fs.PathError's repetition of the path.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// loadConfig returns the policy configuration in force and its file.
func loadConfig(opts Options, first, root string) (policy.Config, string, error) {
	if opts.ConfigFile != "" {
		cfg, err := policy.LoadConfig(opts.ConfigFile)
		return cfg, opts.ConfigFile, err
	}
	if first == "" {
		first = "."
	}
	if root == "" {
		root = first
	}
	file, err := FindConfig(first, root)
	if err != nil {
		return policy.Config{}, "", err
	}
	if file != "" {
		cfg, err := policy.LoadConfig(file)
		return cfg, file, err
	}
	if opts.Policy != nil {
		return *opts.Policy, "", nil
	}
	return policy.DefaultConfig(), "", nil
}

// FindConfig returns the nearest .jobsync.yaml from path (its directory for
// a file) up to root, both included, or "" when there is none. A path
// outside root is looked at alone.
func FindConfig(path, root string) (string, error) {
	dir, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("policy config: %w", err)
	}
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		dir = filepath.Dir(dir)
	}
	top, err := filepath.Abs(root)
	if err != nil {
		return "", fmt.Errorf("policy config: %w", err)
	}
	rel, err := filepath.Rel(top, dir)
	inside := err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
	for d := dir; ; d = filepath.Dir(d) {
		p := filepath.Join(d, ConfigFileName)
		fi, err := os.Stat(p)
		switch {
		case err == nil && fi.Mode().IsRegular():
			return p, nil
		case err != nil && !errors.Is(err, fs.ErrNotExist):
			return "", fmt.Errorf("policy config %s: %w", p, err)
		}
		if !inside || d == top || filepath.Dir(d) == d {
			return "", nil
		}
	}
}
