package manifests

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Options configures Check.
type Options struct {
	// MaxDocumentBytes bounds one document's size; larger documents are an
	// error without being parsed. 0 means no limit.
	MaxDocumentBytes int
	// Workers is how many documents are checked at once; 0 means GOMAXPROCS.
	Workers int
	// SkipUnstructured leaves Result.Unstructured nil, for callers that only
	// report: it halves the memory the results keep.
	SkipUnstructured bool
	// Each, when set, is called in the worker for every result as soon as it
	// is checked, before duplicates are marked (their errors are then placed
	// before anything Each added). jobsync validate applies the policies here
	// and drops the decoded objects, so that they never pile up.
	Each func(r *Result)
	// DropLines, for callers that only report findings: right after Each,
	// every finding gets its line and the document's line index is dropped,
	// so that LineOf gives only the object's line afterwards.
	DropLines bool
}

// DefaultOptions returns the API server's behaviour: documents up to 3 MiB
// (the API server's request size limit), checked on every CPU.
func DefaultOptions() Options {
	return Options{MaxDocumentBytes: 3 << 20}
}

// Check decodes, defaults and validates every input; one Result per input,
// in order. Decoding is strict (sigs.k8s.io/yaml and fieldValidation=Strict
// semantics); batch/v1 Jobs and CronJobs get the API server's defaults,
// validation and warnings; other kinds are decoded but not checked. The
// same Kind/namespace/name twice is an error on the later one. Every
// finding carries the line of its field.
func Check(inputs []Input, opts Options) []Result {
	out := make([]Result, len(inputs))
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, len(inputs))
	var wg sync.WaitGroup
	next := make(chan int, workers)
	for range workers {
		wg.Go(func() {
			for i := range next {
				r := &out[i]
				*r = checkOne(inputs[i], opts)
				r.upstream = len(r.Errors)
				if opts.Each != nil {
					opts.Each(r)
				}
				if opts.DropLines {
					dropLines(r)
				}
			}
		})
	}
	for i := range inputs {
		next <- i
	}
	close(next)
	wg.Wait()
	markDuplicates(out)
	for i := range out {
		setLines(&out[i])
	}
	return out
}

// checkOne decodes, defaults, validates and warns about one document. A
// panic in a rule becomes an error on that document, not a crash.
func checkOne(in Input, opts Options) (res Result) {
	defer func() {
		if p := recover(); p != nil {
			res = Result{File: in.File, Line: in.Line}
			res.addError("", typeInvalid, fmt.Sprintf("internal error while checking this document (please report it): %v", p))
		}
	}()
	r, obj := decode(in, opts)
	if opts.SkipUnstructured {
		r.Unstructured = nil
	}
	switch {
	case obj.job != nil:
		SetJobDefaults(obj.job)
		r.Object = obj.job
		r.addFieldErrors(ValidateJob(obj.job))
		r.Warnings = append(r.Warnings, jobWarnings(obj.job)...)
	case obj.cronJob != nil:
		SetCronJobDefaults(obj.cronJob)
		r.Object = obj.cronJob
		r.addFieldErrors(ValidateCronJob(obj.cronJob))
		r.Warnings = append(r.Warnings, cronJobWarnings(obj.cronJob)...)
	}
	return r
}

// addFieldErrors appends errs as upstream findings, dropping exact repeats.
func (r *Result) addFieldErrors(errs field.ErrorList) {
	if len(errs) == 0 {
		return
	}
	seen := make(map[Finding]bool, len(errs))
	for _, e := range errs {
		f := Finding{Field: e.Field, Type: string(e.Type), Message: e.ErrorBody(), Rule: RuleUpstream}
		if !seen[f] {
			seen[f] = true
			r.Errors = append(r.Errors, f)
		}
	}
}

// markDuplicates reports every object whose Kind/namespace/name an earlier
// input already defined.
func markDuplicates(results []Result) {
	type key struct{ group, kind, ns, name string }
	first := make(map[key]int, len(results))
	for i := range results {
		r := &results[i]
		if r.Kind == "" || r.Name == "" || r.APIVersion == "" {
			continue
		}
		group, _, found := strings.Cut(r.APIVersion, "/")
		if !found {
			group = "" // the core group: "v1"
		}
		k := key{group, r.Kind, r.Namespace, r.Name}
		j, ok := first[k]
		if !ok {
			first[k] = i
			continue
		}
		prev := &results[j]
		msg := fmt.Sprintf("%s: %s is already defined at %s:%d; each object may appear once",
			field.Duplicate(field.NewPath("metadata", "name"), r.Name).ErrorBody(), ref3(r), prev.File, prev.Line)
		dup := Finding{Field: "metadata.name", Type: string(field.ErrorTypeDuplicate), Message: msg, Rule: RuleUpstream, Line: r.nameLine}
		r.Errors = slices.Insert(r.Errors, min(r.upstream, len(r.Errors)), dup)
		r.upstream++
	}
}

// ref3 names an object Kind/namespace/name (namespace left out when unset).
func ref3(r *Result) string {
	if r.Namespace == "" {
		return r.Kind + "/" + r.Name
	}
	return r.Kind + "/" + r.Namespace + "/" + r.Name
}

// setLines gives every finding without a line the line of its field.
func setLines(r *Result) {
	for _, fs := range [][]Finding{r.Errors, r.Warnings} {
		for i := range fs {
			if fs[i].Line == 0 {
				fs[i].Line = r.LineOf(fs[i].Field)
			}
		}
	}
}

// dropLines resolves the lines of r's findings and then lets go of its line
// index, keeping the line of metadata.name for a later duplicate error. An
// index that is not built and that no finding needs is kept: it costs only a
// reference to the document, while building it would cost a parse.
func dropLines(r *Result) {
	if r.lines == nil || (!r.lines.built() && !needsLines(r)) {
		return
	}
	setLines(r)
	r.nameLine = r.LineOf("metadata.name")
	r.lines = nil
}

// needsLines reports whether a finding of r has no line yet.
func needsLines(r *Result) bool {
	for _, fs := range [][]Finding{r.Errors, r.Warnings} {
		for _, f := range fs {
			if f.Line == 0 {
				return true
			}
		}
	}
	return false
}
