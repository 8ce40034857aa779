package embedded

import (
	"fmt"
	"sort"

	"github.com/jobsync/jobsync/reconcile/embedded/podexec"
)

// recoverMessage explains an AgentRestart failure to the user.
const recoverMessage = "the agent restarted while the pod was running; its processes are gone"

// recover marks every pod the store shows as Pending or Running Failed with
// reason AgentRestart, kills what is left of its processes (when the Runner
// is a podexec.Reaper: a SIGKILLed agent does not take its containers with
// it) and queues their Jobs,
// which retry them per backoffLimit. Missed schedules are left to the CronJob
// controller's first sync (mostRecentScheduleTime; docs/batch-semantics.md#missed-runs). Callers hold no lock: New calls it
// before the engine is shared.
func (e *Engine) recover() error {
	b := e.newBatch(e.clock.Now())
	keys := make([]string, 0)
	for k, p := range e.cache.pods {
		if !podTerminal(p) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		np := e.cache.pods[k].DeepCopy()
		msg := recoverMessage
		if r, ok := e.opts.Runner.(podexec.Reaper); ok {
			// A SIGKILLed agent leaves its containers running: stop them, so
			// that the retry never runs next to the old process.
			n, err := r.Reap(np)
			switch {
			case err != nil:
				msg = fmt.Sprintf("%s; killing its leftover processes: %v", msg, err)
			case n > 0:
				msg = fmt.Sprintf("%s; %d leftover container process group(s) killed", msg, n)
			}
		}
		failPod(np, b.now, ReasonAgentRestart, msg)
		e.putPod(b, np)
		b.event(KindPod, np.Namespace, np.Name, EventWarning, ReasonAgentRestart, msg)
		e.queuePodOwner(np, b.now)
	}
	return e.commit(b)
}
