package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/jobsync/jobsync/render"
)

// renderLimitFlags bound one render (render.Options MaxDocuments,
// MaxTotalBytes, Timeout); validate, apply, diff and agent share them.
type renderLimitFlags struct {
	timeout time.Duration
	maxDocs int
	maxMB   int
}

func (f *renderLimitFlags) register(c *cobra.Command) {
	d := render.DefaultOptions()
	fl := c.Flags()
	fl.DurationVar(&f.timeout, "render-timeout", d.Timeout, "longest a render (kustomize build included) may take; 0: no limit")
	fl.IntVar(&f.maxDocs, "render-max-documents", d.MaxDocuments, "most documents a render may produce; 0: no limit")
	fl.IntVar(&f.maxMB, "render-max-mb", int(d.MaxTotalBytes>>20), "most MiB a render may read (kustomize loads included) and produce; 0: no limit")
}

// apply sets the limits on o.
func (f renderLimitFlags) apply(o *render.Options) {
	o.Timeout, o.MaxDocuments, o.MaxTotalBytes = f.timeout, f.maxDocs, int64(f.maxMB)<<20
}

// options returns render.DefaultOptions with the limits.
func (f renderLimitFlags) options() *render.Options {
	o := render.DefaultOptions()
	f.apply(&o)
	return &o
}
