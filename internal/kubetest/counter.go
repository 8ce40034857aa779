package kubetest

import (
	"net/http"
	"sync/atomic"

	"k8s.io/client-go/rest"
)

// Counter counts the requests sent through a config made by CountingConfig.
type Counter struct {
	reads, writes atomic.Int64
}

// Writes returns how many requests were not reads (anything but GET and HEAD:
// creates, applies, patches, updates, deletes, dry runs included).
func (c *Counter) Writes() int64 { return c.writes.Load() }

// Reads returns how many GET and HEAD requests were sent.
func (c *Counter) Reads() int64 { return c.reads.Load() }

// CountingConfig returns a copy of Config whose requests are counted.
func (e *Env) CountingConfig() (*rest.Config, *Counter) {
	c := &Counter{}
	cfg := e.RESTConfig()
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return countingRT{rt: rt, c: c}
	})
	return cfg, c
}

type countingRT struct {
	rt http.RoundTripper
	c  *Counter
}

func (t countingRT) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		t.c.reads.Add(1)
	} else {
		t.c.writes.Add(1)
	}
	return t.rt.RoundTrip(r)
}
