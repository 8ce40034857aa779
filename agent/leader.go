package agent

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// LeaderElection makes replicas of the agent take turns: only the holder of
// a coordination.k8s.io Lease reconciles; the others serve health and wait.
type LeaderElection struct {
	Client    kubernetes.Interface
	Namespace string
	// Name of the Lease (one per sync).
	Name string
	// Identity of this replica (the pod name).
	Identity                                  string
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
}

// DefaultLeaderElection returns client-go's customary timings (15 s lease,
// 10 s renew deadline, 2 s retry).
func DefaultLeaderElection() LeaderElection {
	return LeaderElection{LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second}
}

// runLeading runs lead while this replica holds the Lease, until ctx ends.
// Losing the Lease cancels lead's context: the reconcile under way finishes
// its attempt and no further one starts. It then tries to acquire it again.
func (a *Agent) runLeading(ctx context.Context, le LeaderElection, lead func(context.Context)) error {
	lock := &resourcelock.LeaseLock{
		LeaseMeta:  metav1.ObjectMeta{Namespace: le.Namespace, Name: le.Name},
		Client:     le.Client.CoordinationV1(),
		LockConfig: resourcelock.ResourceLockConfig{Identity: le.Identity},
	}
	for ctx.Err() == nil {
		elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
			Lock: lock, ReleaseOnCancel: true, Name: le.Name,
			LeaseDuration: le.LeaseDuration, RenewDeadline: le.RenewDeadline, RetryPeriod: le.RetryPeriod,
			Callbacks: leaderelection.LeaderCallbacks{
				OnStartedLeading: func(lctx context.Context) {
					a.setLeading(true)
					a.opts.Logger.Info("leading", "lease", le.Namespace+"/"+le.Name, "identity", le.Identity)
					lead(lctx)
				},
				OnStoppedLeading: func() {
					a.setLeading(false)
					a.opts.Logger.Info("stopped leading", "lease", le.Namespace+"/"+le.Name, "identity", le.Identity)
				},
			},
		})
		if err != nil {
			return fmt.Errorf("leader election: %w", err)
		}
		elector.Run(ctx)
	}
	return nil
}

func (a *Agent) setLeading(v bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.leading = v
}

// Leading reports whether this replica reconciles (always true without
// leader election).
func (a *Agent) Leading() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.leading
}
