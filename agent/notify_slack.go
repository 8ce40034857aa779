package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// SlackNotifier POSTs each notification to a Slack-compatible incoming
// webhook (Slack, Mattermost, Rocket.Chat, ...) as {"text": "..."}. The URL
// is a secret (whoever has it can post): it is never put in an error or a
// log line.
type SlackNotifier struct {
	URL    string
	Client *http.Client
}

// Notify sends n's text.
func (s *SlackNotifier) Notify(ctx context.Context, n Notification) error {
	body, err := json.Marshal(map[string]string{"text": slackText(n)})
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(body))
	if err != nil {
		return errors.New("notify slack: the webhook URL does not parse")
	}
	req.Header.Set("Content-Type", "application/json")
	c := s.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message holds the URL
		}
		return fmt.Errorf("notify slack: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("notify slack: the webhook answered %s", resp.Status)
	}
	return nil
}

// slackText is a notification as one line for people.
func slackText(n Notification) string {
	if n.Message != "" {
		return n.Message
	}
	rev := n.Revision
	if len(rev) > 12 {
		rev = rev[:12]
	}
	switch n.Event {
	case "applied":
		total := 0
		for _, c := range n.Changes {
			total += c
		}
		return fmt.Sprintf("jobsync (%s): revision %s applied (%d objects)", n.Target, rev, total)
	case "rejected":
		return fmt.Sprintf("jobsync (%s): revision %s rejected by validation: %s", n.Target, rev, n.Error)
	}
	return fmt.Sprintf("jobsync (%s): revision %s failed at %s: %s", n.Target, rev, n.Stage, n.Error)
}
