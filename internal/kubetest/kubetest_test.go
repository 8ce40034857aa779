package kubetest

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
)

// TestStartRunJobStop starts a control plane of its own (so that it can check
// the teardown), runs a Job whose pod it finishes the way a kubelet would
// (there is no kubelet here), and checks that Stop leaves no process behind.
func TestStartRunJobStop(t *testing.T) {
	bin, err := BinDir()
	if err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	opts.BinDir = bin
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	env, err := Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			env.Stop()
		}
	}()

	// The kubeconfig file reaches the same API server.
	kc, err := clientcmd.BuildConfigFromFlags("", env.Kubeconfig)
	if err != nil {
		t.Fatalf("kubeconfig: %v", err)
	}
	cs, err := kubernetes.NewForConfig(kc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{}); err != nil {
		t.Fatalf("default ServiceAccount through the kubeconfig: %v", err)
	}

	ns, err := env.CreateNamespace(ctx, "kubetest")
	if err != nil {
		t.Fatal(err)
	}
	job := &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: ns},
		Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{{Name: "main", Image: "busybox"}},
		}}, BackoffLimit: ptr.To[int32](0)},
	}
	if _, err := env.Client.BatchV1().Jobs(ns).Create(ctx, job, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The real Job controller creates the pod; finish it as a kubelet would.
	n, err := env.FinishJobPods(ctx, ns, "hello", 0, time.Minute)
	if err != nil || n != 1 {
		t.Fatalf("FinishJobPods = %d, %v; want 1 pod", n, err)
	}
	if err := waitJobCondition(ctx, env, ns, "hello", batchv1.JobComplete); err != nil {
		t.Fatal(err)
	}

	pgids := make([]int, len(env.procs))
	for i, p := range env.procs {
		pgids[i] = p.cmd.Process.Pid
	}
	dir := env.Dir
	env.Stop()
	stopped = true
	for _, pgid := range pgids {
		if err := syscall.Kill(-pgid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process group %d still exists after Stop (kill 0: %v)", pgid, err)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after Stop (%v)", dir, err)
	}
}

func waitJobCondition(ctx context.Context, env *Env, ns, name string, want batchv1.JobConditionType) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		j, err := env.Client.BatchV1().Jobs(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, c := range j.Status.Conditions {
			if c.Type == want && c.Status == corev1.ConditionTrue {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return errors.New("Job/" + ns + "/" + name + ": no " + string(want) + " condition after 1m")
}
