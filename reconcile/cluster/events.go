package cluster

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	eventsclient "k8s.io/client-go/kubernetes/typed/events/v1"
	"k8s.io/client-go/rest"

	"github.com/jobsync/jobsync/reconcile"
)

// Reasons of the Events the target records on the objects it changes.
const (
	EventApplied        = "Applied"
	EventRecreated      = "Recreated"
	EventPruned         = "Pruned"
	EventDriftCorrected = "DriftCorrected"
	EventApplyFailed    = "ApplyFailed"
	EventPruneFailed    = "PruneFailed"
)

// ReportingController is the reportingController of jobsync's Events.
const ReportingController = "jobsync"

// Limits of the events.k8s.io/v1 API.
const (
	maxNoteBytes     = 1024
	maxInstanceBytes = 128
	// eventTimeout bounds the recording of one Apply's Events.
	eventTimeout = 10 * time.Second
)

// EventStats counts the Events of a target since it was made.
type EventStats struct {
	// Recorded Events were created.
	Recorded int64
	// Failed Events were refused or not answered (RBAC, a namespace being
	// deleted, the API server down); the applies they describe stand.
	Failed int64
	// Dropped Events were over Options.MaxEvents for their Apply.
	Dropped int64
}

// recorder records the target's Events, best effort.
type recorder struct {
	client                    eventsclient.EventsV1Interface
	instance                  string
	recorded, failed, dropped atomic.Int64
}

// pendingEvent is one Event to record.
type pendingEvent struct {
	ref                       reconcile.ObjectRef
	uid                       types.UID
	typ, reason, action, note string
}

// newRecorder returns the Event recorder of a target whose Events name
// instance as their reportingInstance (cut to the API's limit).
func newRecorder(c *rest.Config, hc *http.Client, instance string) (*recorder, error) {
	cl, err := eventsclient.NewForConfigAndClient(c, hc)
	if err != nil {
		return nil, fmt.Errorf("cluster target: events client: %w", err)
	}
	return &recorder{client: cl, instance: truncate(instance, maxInstanceBytes)}, nil
}

// EventStats returns how many Events were recorded, failed and dropped.
func (t *Target) EventStats() EventStats {
	if t.events == nil {
		return EventStats{}
	}
	return EventStats{Recorded: t.events.recorded.Load(), Failed: t.events.failed.Load(), Dropped: t.events.dropped.Load()}
}

// recordEvents records an Event for every result that changed the cluster or
// failed, at most Options.MaxEvents of them, in parallel. Errors are counted,
// never returned: an Event never fails an apply.
func (t *Target) recordEvents(ctx context.Context, revision string, results []result) {
	if t.events == nil || ctx.Err() != nil {
		return
	}
	var evs []pendingEvent
	for _, r := range results {
		if ev, ok := eventOf(revision, r); ok {
			evs = append(evs, ev)
		}
	}
	// Over the cap, failures are kept first.
	rank := func(e pendingEvent) int {
		if e.typ == corev1.EventTypeWarning {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(evs, func(a, b pendingEvent) int { return cmp.Compare(rank(a), rank(b)) })
	if over := len(evs) - t.opts.MaxEvents; over > 0 {
		t.events.dropped.Add(int64(over))
		evs = evs[:t.opts.MaxEvents]
	}
	ctx, cancel := context.WithTimeout(ctx, eventTimeout)
	defer cancel()
	now := metav1.NewMicroTime(t.opts.Clock.Now())
	parallel(len(evs), t.opts.Workers, func(i int) {
		if err := t.events.create(ctx, now, evs[i]); err != nil {
			t.events.failed.Add(1)
			return
		}
		t.events.recorded.Add(1)
	})
}

// create records one Event, in the object's namespace ("default" for a
// cluster-scoped object, as the API requires).
func (r *recorder) create(ctx context.Context, now metav1.MicroTime, ev pendingEvent) error {
	ns := ev.ref.Namespace
	if ns == "" {
		ns = metav1.NamespaceDefault
	}
	e := &eventsv1.Event{
		ObjectMeta: metav1.ObjectMeta{GenerateName: namePrefix(ev.ref.Name), Namespace: ns},
		EventTime:  now,
		Regarding: corev1.ObjectReference{
			APIVersion: schema.GroupVersion{Group: ev.ref.Group, Version: ev.ref.Version}.String(),
			Kind:       ev.ref.Kind, Namespace: ev.ref.Namespace, Name: ev.ref.Name, UID: ev.uid,
		},
		ReportingController: ReportingController,
		ReportingInstance:   r.instance,
		Action:              ev.action,
		Reason:              ev.reason,
		Type:                ev.typ,
		Note:                truncate(ev.note, maxNoteBytes),
	}
	if _, err := r.client.Events(ns).Create(ctx, e, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("%s: event %s: %w", ev.ref, ev.reason, err)
	}
	return nil
}

// eventOf says which Event a result calls for: one for what changed the
// cluster (result.event), a Warning for a failure; none for an unchanged,
// kept, deferred or not attempted object.
func eventOf(revision string, r result) (pendingEvent, bool) {
	c := r.out.Change
	ev := pendingEvent{ref: c.Ref, uid: r.uid, typ: corev1.EventTypeNormal, reason: r.event}
	if ev.uid == "" && r.rec != nil {
		ev.uid = types.UID(r.rec.UID)
	}
	if r.out.Err != "" {
		ev.typ, ev.reason, ev.action = corev1.EventTypeWarning, EventApplyFailed, "Apply"
		ev.note = fmt.Sprintf("jobsync could not apply revision %s: %s", revision, r.out.Err)
		if c.Action == reconcile.ActionPrune {
			ev.reason, ev.action = EventPruneFailed, "Prune"
			ev.note = fmt.Sprintf("jobsync could not delete the object (it left Git at revision %s): %s", revision, r.out.Err)
		}
		return ev, true
	}
	switch r.event {
	case EventApplied:
		ev.action, ev.note = "Apply", fmt.Sprintf("jobsync applied revision %s (%s)", revision, c.Action)
	case EventRecreated:
		ev.action, ev.note = "Recreate", fmt.Sprintf("jobsync deleted and created the Job again for revision %s", revision)
	case EventPruned:
		ev.action, ev.note = "Prune", fmt.Sprintf("jobsync deleted the object: it left Git at revision %s", revision)
	case EventDriftCorrected:
		ev.action, ev.note = "Apply", fmt.Sprintf("jobsync put revision %s back", revision)
	default:
		return pendingEvent{}, false
	}
	if r.out.Reason != "" {
		ev.note += ": " + r.out.Reason
	}
	return ev, true
}

// namePrefix makes an Event's generateName from the object's name: a valid
// DNS subdomain prefix (names such as RBAC's "system:x" are not), ending in
// "-"; the server adds a random suffix.
func namePrefix(name string) string {
	const maxPrefix = 200
	b := []byte(strings.ToLower(name))
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '.' && c != '-' {
			b[i] = '-'
		}
	}
	p := strings.Trim(string(b), ".-")
	if len(p) > maxPrefix {
		p = strings.TrimRight(p[:maxPrefix], ".-")
	}
	if p == "" {
		p = "object"
	}
	return p + "-"
}

// truncate cuts s to at most n bytes, on a rune boundary, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const mark = "…"
	cut := n - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}
