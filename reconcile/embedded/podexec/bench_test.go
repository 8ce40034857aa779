package podexec

import (
	"context"
	"os/exec"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// BenchmarkPodStart runs a one-container pod whose command is `true`, start
// to Done; BenchmarkRawExec runs the same process with os/exec alone. The
// difference is the executor's overhead per pod start (env, log file,
// process group, status bookkeeping).
func BenchmarkPodStart(b *testing.B) {
	o := DefaultOptions()
	o.LogDir = b.TempDir()
	x, err := New(o)
	if err != nil {
		b.Fatal(err)
	}
	pod := shPod("bench", corev1.RestartPolicyNever, corev1.Container{Name: "main", Image: "x", Command: []string{"true"},
		Env: []corev1.EnvVar{{Name: "A", Value: "1"}, {Name: "B", Value: "$(A)"}}})
	b.ResetTimer()
	for range b.N {
		h, err := x.Start(context.Background(), pod, nil)
		if err != nil {
			b.Fatal(err)
		}
		<-h.Done()
		if h.Status().Phase != corev1.PodSucceeded {
			b.Fatalf("pod %+v", h.Status())
		}
	}
}

func BenchmarkRawExec(b *testing.B) {
	for range b.N {
		if err := exec.Command("true").Run(); err != nil {
			b.Fatal(err)
		}
	}
}
