package agent

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/jobsync/jobsync/reconcile"
)

// TestWebhookBurstCoalesces: a burst of signed pushes during a reconcile
// leaves exactly one reconcile pending, which then sees the newest revision;
// nothing more runs after it.
func TestWebhookBurstCoalesces(t *testing.T) {
	tests := []struct {
		name  string
		burst int
	}{
		{name: "one push", burst: 1},
		{name: "fifty pushes", burst: 50},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Every fetch hands the test a channel and waits until it is closed.
			fetches := make(chan chan struct{})
			dir := t.TempDir()
			src := reconcile.SourceFunc(func(context.Context) (reconcile.Snapshot, error) {
				release := make(chan struct{})
				fetches <- release
				<-release
				return reconcile.Snapshot{Revision: "main@sha1:abc", Dir: dir}, nil
			})
			lo := reconcile.DefaultLoopOptions()
			lo.Plan.AllowEmpty = true
			// An hour on a clock that never moves: only triggers reconcile.
			// No time-based debounce (the loop's own, tested in reconcile):
			// this is about the agent keeping at most one trigger pending.
			lo.Interval, lo.Debounce = time.Hour, 0
			lo.Clock = clocktesting.NewFakeClock(time.Unix(1_700_000_000, 0))
			tgt := &recordingTarget{onApply: make(chan struct{}, 4)}
			secret := []byte("burst-secret")
			wo := DefaultWebhookOptions()
			wo.Secret = secret
			opts := DefaultOptions()
			opts.Webhook = &wo
			a := New(reconcile.NewLoop(src, tgt, lo), "memory", opts)
			srv := httptest.NewServer(a.Handler())
			defer srv.Close()
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- a.Run(ctx) }()

			first := <-fetches // the start-up reconcile is under way
			pushBurst(t, srv.URL+"/hooks/generic", secret, tc.burst)
			if n := len(a.trigger); n != 1 {
				t.Fatalf("after %d pushes: %d reconciles pending, want 1", tc.burst, n)
			}
			close(first)
			second := <-fetches // the burst's one reconcile
			if n := len(a.trigger); n != 0 {
				t.Errorf("during the burst's reconcile: %d pending, want 0", n)
			}
			close(second)
			// Cancel only once the burst's reconcile applied: a cancel
			// during its render would (rightly) apply nothing.
			<-tgt.onApply
			<-tgt.onApply
			cancel()
			for {
				select {
				case release := <-fetches:
					t.Errorf("a third reconcile ran after a burst of %d", tc.burst)
					close(release)
					continue
				case err := <-done:
					if err != nil {
						t.Fatalf("Run: %v", err)
					}
				}
				break
			}
			if n := len(tgt.applied); n != 2 {
				t.Errorf("target applied %d times, want 2 (start-up and the burst)", n)
			}
		})
	}
}

// pushBurst sends n signed generic webhooks at once and checks each is
// accepted.
func pushBurst(t *testing.T, url string, secret []byte, n int) {
	t.Helper()
	body := []byte(`{"ref":"refs/heads/main"}`)
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
			if err != nil {
				return
			}
			req.Header.Set(HeaderGenericSignature, Sign(secret, body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusAccepted {
			t.Fatalf("push %d: status %d, want 202", i, c)
		}
	}
}
