package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/jobsync/jobsync/reconcile"
)

// Notification tells the outside world that a revision was applied or failed.
type Notification struct {
	// Event is "applied" or "failed" ("rejected" when validation refused it).
	Event    string    `json:"event"`
	Target   string    `json:"target"`
	Revision string    `json:"revision,omitempty"`
	Stage    string    `json:"stage"`
	Error    string    `json:"error,omitempty"`
	Time     time.Time `json:"time"`
	// Changes counts the change set's actions (applied only).
	Changes map[reconcile.Action]int `json:"changes,omitempty"`
	// Health notifications (Stage "health", Event late, missed, failing or
	// recovered): the CronJob ("CronJob/<namespace>/<name>"), its health
	// state and reason, the due time it is about, and a line for people.
	Object  string     `json:"object,omitempty"`
	Health  string     `json:"health,omitempty"`
	Reason  string     `json:"reason,omitempty"`
	Due     *time.Time `json:"due,omitempty"`
	Message string     `json:"message,omitempty"`
}

// Notifier receives notifications. Implementations must not block for long:
// the agent calls them after each reconcile whose outcome changed.
type Notifier interface {
	Notify(ctx context.Context, n Notification) error
}

// WebhookNotifier POSTs each notification as JSON to a URL, signed like the
// generic receiver (X-Jobsync-Signature-256) when Secret is set.
type WebhookNotifier struct {
	URL    string
	Secret []byte
	Client *http.Client
}

// Notify sends n.
func (w *WebhookNotifier) Notify(ctx context.Context, n Notification) error {
	body, err := json.Marshal(n)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if len(w.Secret) > 0 {
		req.Header.Set(HeaderGenericSignature, Sign(w.Secret, body))
	}
	c := w.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("notify: %s answered %s", req.URL.Host, resp.Status)
	}
	return nil
}

// notification returns what to send for an attempt, and whether to send it:
// every applied new revision, and every failure whose error differs from the
// previous attempt's (a server that stays down is reported once).
func notification(target string, a reconcile.Attempt, prev *reconcile.Attempt) (Notification, bool) {
	n := Notification{Target: target, Revision: a.Revision, Stage: a.Stage, Time: a.Finished}
	if a.Err == nil {
		if prev != nil && prev.Err == nil && prev.Revision == a.Revision {
			return n, false
		}
		n.Event = "applied"
		n.Changes = map[reconcile.Action]int{}
		for _, c := range a.ChangeSet.Changes {
			n.Changes[c.Action]++
		}
		return n, true
	}
	n.Event, n.Error = "failed", a.Err.Error()
	if a.Stage == "validate" {
		n.Event = "rejected"
	}
	if prev != nil && prev.Err != nil && prev.Err.Error() == a.Err.Error() {
		return n, false
	}
	return n, true
}
