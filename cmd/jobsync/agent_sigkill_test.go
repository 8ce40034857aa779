package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// sleeperJob is a Job whose one pod runs until killed; the sleep's length
// marks its process so that the test can find it in /proc.
const sleeperJob = `apiVersion: batch/v1
kind: Job
metadata:
  name: sleeper
  namespace: work
spec:
  backoffLimit: 2
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: main
          image: busybox:1.36
          command: ["sh", "-c", "echo started; exec sleep 2999"]
`

// TestAgentSIGKILLRestart runs the real agent binary (this test binary
// acting as jobsync) with the embedded target, SIGKILLs it while a pod runs,
// and starts it again on the same state: the pod that was running is
// Failed with reason AgentRestart, its leftover process is killed, and the
// Job retries with a new pod, as backoffLimit allows.
func TestAgentSIGKILLRestart(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Fatal("sh is needed to run containers")
	}
	repo, state := t.TempDir(), t.TempDir()
	// Only --path app is synced; other/ holds a Job that must never run.
	for dir, doc := range map[string]string{"app": sleeperJob, "other": strings.ReplaceAll(sleeperJob, "name: sleeper", "name: not-synced")} {
		if err := os.MkdirAll(filepath.Join(repo, dir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(repo, dir, "job.yaml"), []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	agentArgs := []string{"agent", "--repo", repo, "--path", "app", "--target", "embedded", "--state-dir", state, "--interval", "1h"}
	first := startChild(t, agentArgs...)
	running := waitPods(t, state, "the first pod running", func(ps []corev1.Pod) bool {
		return len(ps) >= 1 && ps[0].Status.Phase == corev1.PodRunning
	})
	if len(running) != 1 || !strings.HasPrefix(running[0].Name, "sleeper-") {
		t.Fatalf("pods %v: want only the sleeper's (--path app)", podNames(running))
	}
	firstPod := running[0].Name
	if !sleepAlive() {
		t.Fatal("the container's process is not running")
	}
	// SIGKILL the agent alone: its container lives on in its own process group.
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	if !sleepAlive() {
		t.Fatal("the container died with the agent; the test cannot show the leftover is reaped")
	}
	second := startChild(t, agentArgs...)
	// The retry comes after the backoff (10 s); wait for its process.
	pods := waitPods(t, state, "the first pod failed and a retry running", func(ps []corev1.Pod) bool {
		if len(ps) != 2 || podByName(ps, firstPod) == nil || podByName(ps, firstPod).Status.Phase != corev1.PodFailed {
			return false
		}
		for _, p := range ps {
			if p.Name != firstPod && p.Status.Phase != corev1.PodRunning {
				return false
			}
		}
		return true
	})
	old := podByName(pods, firstPod)
	if old.Status.Reason != "AgentRestart" || !strings.Contains(old.Status.Message, "agent restarted") {
		t.Errorf("first pod after the restart: reason %q message %q, want AgentRestart", old.Status.Reason, old.Status.Message)
	}
	// The leftover was killed; only the retry's process runs now (its sh
	// may take a moment to exec the sleep on a loaded machine).
	n := countSleeps()
	for deadline := time.Now().Add(10 * time.Second); n == 0 && time.Now().Before(deadline); n = countSleeps() {
		time.Sleep(50 * time.Millisecond)
	}
	if n != 1 {
		t.Errorf("%d container processes after the restart, want 1 (the retry's)", n)
	}
	if err := second.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := second.Wait(); err != nil {
		t.Errorf("agent after SIGTERM: %v", err)
	}
}

// startChild runs this test binary as `jobsync args...`; it is killed at
// the end of the test if still running.
func startChild(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), benchChildEnv+"=1")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			// SIGTERM first: the agent then kills its pods' processes.
			_ = cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { _ = cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
		}
		if t.Failed() {
			t.Logf("agent output:\n%s", logs.String())
		}
	})
	return cmd
}

// waitPods polls `jobsync get pods -A -o json` until ok holds (30 s).
func waitPods(t *testing.T, state, what string, ok func([]corev1.Pod) bool) []corev1.Pod {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last string
	for time.Now().Before(deadline) {
		var out, errb bytes.Buffer
		if code := run([]string{"get", "pods", "-A", "-o", "json", "--state-dir", state}, nil, &out, &errb); code == 0 {
			var l corev1.PodList
			if err := json.Unmarshal(out.Bytes(), &l); err != nil {
				t.Fatalf("get pods -o json: %v", err)
			}
			if ok(l.Items) {
				return l.Items
			}
			last = out.String()
		} else {
			last = errb.String()
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; last:\n%s", what, last)
	return nil
}

func podNames(ps []corev1.Pod) []string {
	var names []string
	for _, p := range ps {
		names = append(names, p.Namespace+"/"+p.Name)
	}
	return names
}

func podByName(ps []corev1.Pod, name string) *corev1.Pod {
	for i := range ps {
		if ps[i].Name == name {
			return &ps[i]
		}
	}
	return nil
}

func sleepAlive() bool { return countSleeps() > 0 }

// countSleeps counts the live processes running `sleep 2999`.
func countSleeps() int {
	n := 0
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Equal(bytes.TrimRight(b, "\x00"), []byte("sleep\x002999")) {
			continue
		}
		if st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil && !bytes.Contains(st, []byte(") Z ")) {
			n++
		}
	}
	return n
}
