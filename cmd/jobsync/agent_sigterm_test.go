package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
)

// bigCronJobTree writes a kustomization of n CronJobs, which kustomize
// takes many seconds to build.
func bigCronJobTree(t *testing.T, n int) string {
	t.Helper()
	repo := t.TempDir()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: job-%d
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: main
              image: registry.example.com/tools:1.2.3
              command: ["true"]
`, i)
	}
	files := map[string]string{
		"app/cronjobs.yaml":      b.String(),
		"app/kustomization.yaml": "namePrefix: big-\nlabels: [{pairs: {app: big}}]\nresources:\n  - cronjobs.yaml\n",
	}
	for name, content := range files {
		p := filepath.Join(repo, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return repo
}

// TestAgentSIGTERMCancelsRender runs the agent binary (this test binary as
// jobsync) on a 10,000-CronJob kustomization and sends SIGTERM while it
// renders: the agent exits within seconds and applies nothing. Before the
// render took a context, the agent kept rendering for tens of seconds after
// SIGTERM and then applied every CronJob.
func TestAgentSIGTERMCancelsRender(t *testing.T) {
	repo, state := bigCronJobTree(t, 10_000), t.TempDir()
	cmd := exec.Command(os.Args[0], "agent", "--repo", repo, "--path", "app", "--target", "embedded",
		"--state-dir", state, "--interval", "1h")
	cmd.Env = append(os.Environ(), benchChildEnv+"=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	lines := bufio.NewScanner(io.TeeReader(stderr, &logs))
	for lines.Scan() && !strings.Contains(lines.Text(), "agent starting") {
	}
	copied := make(chan struct{})
	go func() { _, _ = io.Copy(&logs, stderr); close(copied) }()
	// The render is under way once the agent has spent a second of CPU
	// after starting (fetching a local directory takes milliseconds).
	waitCPU(t, cmd.Process.Pid, time.Second)
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { <-copied; done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("agent exited with %v after SIGTERM", err)
		}
		if took := time.Since(sent); took > 5*time.Second {
			t.Errorf("agent took %v to exit after SIGTERM, want a few seconds", took)
		}
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("agent still running 60 s after SIGTERM\n%s", logs.String())
	}
	var out, errb bytes.Buffer
	if code := run([]string{"get", "cronjobs", "-A", "-o", "json", "--state-dir", state}, nil, &out, &errb); code != 0 {
		t.Fatalf("get cronjobs: exit %d: %s", code, errb.String())
	}
	var l batchv1.CronJobList
	if err := json.Unmarshal(out.Bytes(), &l); err != nil {
		t.Fatalf("get cronjobs -o json: %v\n%s", err, out.String())
	}
	if len(l.Items) != 0 {
		t.Errorf("%d CronJobs applied after SIGTERM during the render, want none", len(l.Items))
	}
	if t.Failed() {
		t.Logf("agent output:\n%s", logs.String())
	}
}

// waitCPU waits until process pid has used at least d of CPU (30 s at most).
func waitCPU(t *testing.T, pid int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
		utime, _ := strconv.Atoi(f[11])
		stime, _ := strconv.Atoi(f[12])
		if time.Duration(utime+stime)*10*time.Millisecond >= d { // USER_HZ is 100 on Linux
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the agent did not start rendering within 30 s")
}
