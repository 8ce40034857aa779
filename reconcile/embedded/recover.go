package embedded

import (
	"sort"
)

// recoverMessage explains an AgentRestart failure to the user.
const recoverMessage = "the agent restarted while the pod was running; its processes are gone"

// recover marks every pod the store shows as Pending or Running Failed with
// reason AgentRestart (no process survives the agent) and queues their Jobs,
// which retry them per backoffLimit. Missed schedules are left to the CronJob
// controller's first sync (spec §6.4). Callers hold no lock: New calls it
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
		failPod(np, b.now, ReasonAgentRestart, recoverMessage)
		e.putPod(b, np)
		b.event(KindPod, np.Namespace, np.Name, EventWarning, ReasonAgentRestart, recoverMessage)
		e.queuePodOwner(np, b.now)
	}
	return e.commit(b)
}
