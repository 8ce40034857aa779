package podexec

import (
	"context"

	corev1 "k8s.io/api/core/v1"
)

// Lookup resolves the ConfigMaps and Secrets a pod's env and envFrom refer
// to. The embedded target backs it with the objects of the current render.
type Lookup interface {
	ConfigMap(ns, name string) (*corev1.ConfigMap, bool)
	Secret(ns, name string) (*corev1.Secret, bool)
}

// Runner starts pods as local processes.
type Runner interface {
	// Start begins running pod and returns at once. The returned Handle
	// reports the pod's status until it is Succeeded or Failed.
	Start(ctx context.Context, pod *corev1.Pod, refs Lookup) (Handle, error)
}

// Handle is one running (or finished) pod.
type Handle interface {
	// Status is a snapshot of the pod's status: phase, startTime, and the
	// init and regular container statuses (restartCount, running or
	// terminated state with exitCode, reason, startedAt, finishedAt).
	Status() corev1.PodStatus
	// Done is closed once the pod is Succeeded or Failed.
	Done() <-chan struct{}
	// Kill sends SIGTERM to every container's process group, then SIGKILL
	// after the pod's terminationGracePeriodSeconds (default 30). The pod
	// ends Failed with reason. Kill returns at once (the engine calls it
	// under its lock); on a finished pod it is a no-op.
	Kill(reason string)
}
