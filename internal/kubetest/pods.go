package kubetest

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// FinishPod does what a kubelet would when the pod's containers exit: it sets
// the pod's phase (Succeeded for exit code 0, else Failed) and a terminated
// state with that exit code for every container, through the status
// subresource. This control plane has no kubelet, so tests that need a pod to
// finish call this.
func (e *Env) FinishPod(ctx context.Context, namespace, name string, exitCode int32) error {
	pods := e.Client.CoreV1().Pods(namespace)
	pod, err := pods.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("Pod/%s/%s: %w", namespace, name, err)
	}
	finishStatus(pod, exitCode, time.Now())
	if _, err := pods.UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("Pod/%s/%s: finish with exit code %d: %w", namespace, name, exitCode, err)
	}
	return nil
}

func finishStatus(pod *corev1.Pod, exitCode int32, now time.Time) {
	phase, reason := corev1.PodSucceeded, "Completed"
	if exitCode != 0 {
		phase, reason = corev1.PodFailed, "Error"
	}
	t := metav1.NewTime(now)
	pod.Status.Phase = phase
	pod.Status.StartTime = &t
	pod.Status.ContainerStatuses = nil
	for _, c := range pod.Spec.Containers {
		pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, corev1.ContainerStatus{
			Name:  c.Name,
			Image: c.Image,
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: exitCode, Reason: reason, StartedAt: t, FinishedAt: t,
			}},
		})
	}
	pod.Status.Conditions = []corev1.PodCondition{
		{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: "PodCompleted", LastTransitionTime: t},
	}
}

// FinishJobPods waits (up to timeout) until the Job's controller has created
// at least one pod, then finishes every pod of the Job that is not finished
// yet with exitCode (see FinishPod). It returns how many pods it finished.
func (e *Env) FinishJobPods(ctx context.Context, namespace, job string, exitCode int32, timeout time.Duration) (int, error) {
	sel := metav1.ListOptions{LabelSelector: "batch.kubernetes.io/job-name=" + job}
	deadline := time.Now().Add(timeout)
	for {
		list, err := e.Client.CoreV1().Pods(namespace).List(ctx, sel)
		if err != nil {
			return 0, fmt.Errorf("Job/%s/%s: list pods: %w", namespace, job, err)
		}
		n := 0
		for i := range list.Items {
			p := &list.Items[i]
			if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed || p.DeletionTimestamp != nil {
				continue
			}
			if err := e.FinishPod(ctx, namespace, p.Name, exitCode); err != nil {
				return n, err
			}
			n++
		}
		if n > 0 {
			return n, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("Job/%s/%s: no running pod after %s", namespace, job, timeout)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}
