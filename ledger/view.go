package ledger

import (
	"sort"
	"time"

	"k8s.io/utils/clock"

	"github.com/jobsync/jobsync/fleet"
)

// View joins the current CronJobs (from a provider) with the ledger into a
// fleet.View; each call evaluates health at the clock's now.
type View struct {
	l     *Ledger
	specs func() []Spec
	clock clock.PassiveClock
}

var _ fleet.View = (*View)(nil)

// NewView returns the fleet.View of the CronJobs specs returns.
func NewView(l *Ledger, specs func() []Spec, clk clock.PassiveClock) *View {
	if clk == nil {
		clk = clock.RealClock{}
	}
	return &View{l: l, specs: specs, clock: clk}
}

// CronJobs returns every CronJob, sorted by namespace and name.
func (v *View) CronJobs() []fleet.CronJob {
	specs := v.specs()
	now := v.clock.Now()
	out := make([]fleet.CronJob, 0, len(specs))
	for _, s := range specs {
		out = append(out, v.l.CronJob(s, now))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// CronJob returns one CronJob.
func (v *View) CronJob(ns, name string) (fleet.CronJob, bool) {
	for _, s := range v.specs() {
		if s.Namespace == ns && s.Name == name {
			return v.l.CronJob(s, v.clock.Now()), true
		}
	}
	return fleet.CronJob{}, false
}

// Runs returns a CronJob's ledger, newest first.
func (v *View) Runs(ns, name string, limit int) []fleet.Run { return v.l.Runs(ns, name, limit) }

// Facts returns what the ledger knows of a CronJob, at now.
func (l *Ledger) Facts(ns, name string, now time.Time) Facts {
	l.mu.RLock()
	defer l.mu.RUnlock()
	f := Facts{AgentGaps: l.gaps, Known: l.created, Now: now}
	if !l.lastUp.IsZero() && now.Sub(l.lastUp) > 3*upEvery {
		// a stopped agent's ledger (or a stuck one): down since its last Up
		f.AgentGaps = append(f.AgentGaps[:len(f.AgentGaps):len(f.AgentGaps)], Interval{From: l.lastUp, To: now})
	}
	if e := l.cache[cronJobKey(ns, name)]; e != nil {
		f.Runs = e.recent // replaced on change, never changed in place: shared
		f.Suspensions = e.suspended
		f.LastScheduled = e.lastScheduled
	}
	return f
}

// CronJob is the fleet.CronJob of s with its ledger and health at now.
func (l *Ledger) CronJob(s Spec, now time.Time) fleet.CronJob {
	f := l.Facts(s.Namespace, s.Name, now)
	c := fleet.CronJob{Namespace: s.Namespace, Name: s.Name, Labels: s.Labels, Schedule: s.Schedule, TimeZone: s.TimeZone,
		Suspend: s.Suspend, Origin: s.Origin, Health: Evaluate(s, f), Next: NextRun(s, now), Recent: f.Runs}
	l.mu.RLock()
	if e := l.cache[cronJobKey(s.Namespace, s.Name)]; e != nil {
		c.LastSuccess, c.LastFailure = e.lastSuccess, e.lastFailure
	}
	l.mu.RUnlock()
	for i := len(f.Runs) - 1; i >= 0; i-- {
		if r := f.Runs[i].Result; r != fleet.ResultRunning {
			c.LastResult = r
			break
		}
	}
	return c
}
