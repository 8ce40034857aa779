package kubetest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
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

// lookupEnv is os.LookupEnv, handed over by TestMain (only test mains read
// the environment).
var lookupEnv func(string) (string, bool)

func TestMain(m *testing.M) {
	lookupEnv = os.LookupEnv
	os.Exit(m.Run())
}

// TestBinDirErrorsSayWhatToDo: a missing or incomplete binary directory fails
// with how to get the binaries, never silently.
func TestBinDirErrorsSayWhatToDo(t *testing.T) {
	incomplete := t.TempDir()
	if err := os.WriteFile(filepath.Join(incomplete, "kube-apiserver"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	notExec := t.TempDir()
	for _, b := range binaries {
		if err := os.WriteFile(filepath.Join(notExec, b), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, dir, want string
	}{
		{name: "no such directory", dir: filepath.Join(t.TempDir(), "nope"), want: "no kube-apiserver there"},
		{name: "controller manager missing", dir: incomplete, want: "no kube-controller-manager there"},
		{name: "not executable", dir: notExec, want: "kube-apiserver there is not executable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := BinDir(tc.dir)
			if err == nil {
				t.Fatalf("BinDir(%s) = nil error", tc.dir)
			}
			for _, w := range []string{tc.want, EnvBinDir, "hack/build-controlplane.sh"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestStartRunJobStop starts a control plane of its own (so that it can check
// the teardown), runs a Job whose pod it finishes the way a kubelet would
// (there is no kubelet here), and checks that Stop leaves no process behind.
func TestStartRunJobStop(t *testing.T) {
	opts, err := OptionsFromEnv(lookupEnv)
	if err != nil {
		t.Fatal(err)
	}
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
	cleaned := false
	env.Cleanup(func() { cleaned = true })
	env.Stop()
	stopped = true
	if !cleaned {
		t.Error("Stop did not run the function registered with Cleanup")
	}
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
