package podexec

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
)

type lookup struct {
	cms     map[string]*corev1.ConfigMap
	secrets map[string]*corev1.Secret
}

func (l lookup) ConfigMap(ns, name string) (*corev1.ConfigMap, bool) {
	c, ok := l.cms[ns+"/"+name]
	return c, ok
}

func (l lookup) Secret(ns, name string) (*corev1.Secret, bool) {
	s, ok := l.secrets[ns+"/"+name]
	return s, ok
}

func testRefs() lookup {
	return lookup{
		cms:     map[string]*corev1.ConfigMap{"ns/cfg": {Data: map[string]string{"greeting": "hello", "A-B": "skipped", "COLOR": "blue"}}},
		secrets: map[string]*corev1.Secret{"ns/sec": {Data: map[string][]byte{"token": []byte("s3cret")}}},
	}
}

func shPod(name string, restart corev1.RestartPolicy, containers ...corev1.Container) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: "uid-1",
			Labels: map[string]string{"app": "demo"}, Annotations: map[string]string{"batch.kubernetes.io/job-completion-index": "3"}},
		Spec: corev1.PodSpec{RestartPolicy: restart, Containers: containers, TerminationGracePeriodSeconds: ptr.To[int64](1)},
	}
}

func sh(name, script string) corev1.Container {
	return corev1.Container{Name: name, Image: "busybox", Command: []string{"sh", "-c", script}}
}

func newExec(t *testing.T, c clock.WithTicker) *Executor {
	t.Helper()
	o := DefaultOptions()
	o.LogDir, o.WorkDir = t.TempDir(), workDir(t)
	if c != nil {
		o.Clock = c
	}
	x, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func wait(t *testing.T, h Handle) corev1.PodStatus {
	t.Helper()
	select {
	case <-h.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("pod did not end within 20s")
	}
	return h.Status()
}

func TestExecutorExitCodes(t *testing.T) {
	cases := []struct {
		name   string
		script string
		phase  corev1.PodPhase
		code   int32
		reason string
	}{
		{"exit 0", "exit 0", corev1.PodSucceeded, 0, ReasonCompleted},
		{"exit 1", "exit 1", corev1.PodFailed, 1, ReasonError},
		{"exit 42", "echo out; echo err >&2; exit 42", corev1.PodFailed, 42, ReasonError},
	}
	x := newExec(t, nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, err := x.Start(context.Background(), shPod("p-"+strings.ReplaceAll(tc.name, " ", ""), corev1.RestartPolicyNever, sh("main", tc.script)), nil)
			if err != nil {
				t.Fatal(err)
			}
			st := wait(t, h)
			if st.Phase != tc.phase {
				t.Fatalf("phase %s, want %s", st.Phase, tc.phase)
			}
			term := st.ContainerStatuses[0].State.Terminated
			if term == nil || term.ExitCode != tc.code || term.Reason != tc.reason {
				t.Fatalf("terminated %+v, want code %d reason %s", term, tc.code, tc.reason)
			}
		})
	}
}

func TestExecutorLogsEnvAndExpansion(t *testing.T) {
	x := newExec(t, nil)
	dir := sharedDir(t)
	c := corev1.Container{
		Name: "main", Image: "busybox", WorkingDir: dir,
		Command: []string{"sh", "-c"},
		Args:    []string{`echo "$(GREETING)" '$(MISSING) $$(GREETING)' "idx=$JOB_COMPLETION_INDEX pod=$POD ns=$NS app=$APP tok=$TOKEN color=$CFG_COLOR ab=${CFG_A_B:-none} pwd=$PWD"; echo oops >&2`},
		EnvFrom: []corev1.EnvFromSource{{Prefix: "CFG_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}},
		Env: []corev1.EnvVar{
			{Name: "NAME", Value: "world"},
			{Name: "GREETING", Value: "hi $(NAME)"},
			{Name: "JOB_COMPLETION_INDEX", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']"}}},
			{Name: "POD", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
			{Name: "NS", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
			{Name: "APP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['app']"}}},
			{Name: "TOKEN", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "sec"}, Key: "token"}}},
		},
	}
	h, err := x.Start(context.Background(), shPod("env", corev1.RestartPolicyNever, c), testRefs())
	if err != nil {
		t.Fatal(err)
	}
	if st := wait(t, h); st.Phase != corev1.PodSucceeded {
		t.Fatalf("phase %s: %+v", st.Phase, st.ContainerStatuses)
	}
	data, err := os.ReadFile(x.LogPath("ns", "env", "main"))
	if err != nil {
		t.Fatal(err)
	}
	want := "hi world $(MISSING) $(GREETING) idx=3 pod=env ns=ns app=demo tok=s3cret color=blue ab=none pwd=" + dir + "\noops\n"
	if string(data) != want {
		t.Fatalf("log:\n%q\nwant\n%q", data, want)
	}
}

func TestExecutorStartFailures(t *testing.T) {
	cases := []struct {
		name   string
		c      corev1.Container
		reason string
		msg    string
	}{
		{"no command", corev1.Container{Name: "main", Image: "alpine:3"}, ReasonNoCommand, "image alpine:3 not pulled; no command"},
		{"missing configmap key", corev1.Container{Name: "main", Image: "x", Command: []string{"true"}, Env: []corev1.EnvVar{{Name: "X", ValueFrom: &corev1.EnvVarSource{
			ConfigMapKeyRef: &corev1.ConfigMapKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "nope"}}}}}, ReasonConfigError, "couldn't find key nope in ConfigMap ns/cfg"},
		{"missing binary", corev1.Container{Name: "main", Image: "x", Command: []string{"/nonexistent/bin"}}, ReasonStartError, "no such file"},
	}
	var images []string
	o := DefaultOptions()
	o.LogDir, o.WorkDir = t.TempDir(), workDir(t)
	o.OnImage = func(i string) { images = append(images, i) }
	x, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h, err := x.Start(context.Background(), shPod("bad", corev1.RestartPolicyNever, tc.c), testRefs())
			if err != nil {
				t.Fatal(err)
			}
			st := wait(t, h)
			term := st.ContainerStatuses[0].State.Terminated
			if st.Phase != corev1.PodFailed || term == nil || term.Reason != tc.reason || term.ExitCode != ExitStartFailure || !strings.Contains(term.Message, tc.msg) {
				t.Fatalf("phase %s terminated %+v; want reason %s message with %q", st.Phase, term, tc.reason, tc.msg)
			}
		})
	}
	if strings.Join(images, ",") != "alpine:3,x" {
		t.Fatalf("OnImage calls %v, want once per image", images)
	}
}

func TestExecutorInitContainersThenParallel(t *testing.T) {
	x := newExec(t, nil)
	marker := sharedDir(t) + "/m"
	p := shPod("init", corev1.RestartPolicyNever,
		sh("a", "cat "+marker+"; echo a >> "+marker), sh("b", "cat "+marker+" >/dev/null && echo b"))
	p.Spec.InitContainers = []corev1.Container{sh("i1", "echo one > "+marker), sh("i2", "echo two >> "+marker)}
	h, err := x.Start(context.Background(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if st := wait(t, h); st.Phase != corev1.PodSucceeded || len(st.InitContainerStatuses) != 2 {
		t.Fatalf("phase %s, init statuses %d", st.Phase, len(st.InitContainerStatuses))
	}
	data, _ := os.ReadFile(x.LogPath("ns", "init", "a"))
	if string(data) != "one\ntwo\n" {
		t.Fatalf("container a saw %q, want both init containers' output", data)
	}

	failing := shPod("initfail", corev1.RestartPolicyNever, sh("a", "echo never"))
	failing.Spec.InitContainers = []corev1.Container{sh("i1", "exit 3")}
	h, err = x.Start(context.Background(), failing, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := wait(t, h)
	if st.Phase != corev1.PodFailed || st.ContainerStatuses[0].State.Terminated != nil {
		t.Fatalf("a failed init container must stop the pod before its containers: %+v", st)
	}
}

func TestExecutorKillTermThenKill(t *testing.T) {
	cases := []struct {
		name   string
		script string
		code   int32
	}{
		{"sigterm ends it", "echo ready; sleep 30 & wait", 143},
		{"sigterm ignored, sigkill after grace", "trap '' TERM; echo ready; sleep 30 & wait; sleep 30", 137},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fc := clocktesting.NewFakeClock(time.Now())
			x := newExec(t, fc)
			h, err := x.Start(context.Background(), shPod("sleep", corev1.RestartPolicyNever, sh("main", tc.script)), nil)
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, func() bool {
				data, _ := os.ReadFile(x.LogPath("ns", "sleep", "main"))
				return string(data) == "ready\n"
			})
			h.Kill("DeadlineExceeded")
			// The grace period runs on the fake clock: step past it once Kill waits on it.
			waitFor(t, func() bool { return fc.HasWaiters() || isDone(h.Done()) })
			fc.Step(2 * time.Second)
			st := wait(t, h)
			term := st.ContainerStatuses[0].State.Terminated
			if st.Phase != corev1.PodFailed || st.Reason != "DeadlineExceeded" || term == nil || term.ExitCode != tc.code {
				t.Fatalf("phase %s reason %s terminated %+v, want exit %d", st.Phase, st.Reason, term, tc.code)
			}
		})
	}
}

func TestExecutorOnFailureRestartsInPlace(t *testing.T) {
	fc := clocktesting.NewFakeClock(time.Now())
	x := newExec(t, fc)
	counter := sharedDir(t) + "/n"
	// Fails twice, then succeeds.
	script := "n=$(cat " + counter + " 2>/dev/null || echo 0); n=$((n+1)); echo $n > " + counter + "; [ $n -ge 3 ]"
	h, err := x.Start(context.Background(), shPod("retry", corev1.RestartPolicyOnFailure, sh("main", script)), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, delay := range []time.Duration{10 * time.Second, 20 * time.Second} {
		waitFor(t, fc.HasWaiters)
		st := h.Status().ContainerStatuses[0]
		if st.State.Waiting == nil || st.State.Waiting.Reason != ReasonCrashLoop {
			t.Fatalf("want CrashLoopBackOff while waiting, got %+v", st.State)
		}
		fc.Step(delay - time.Second)
		if fc.HasWaiters() == false {
			t.Fatalf("restarted before the %s backoff", delay)
		}
		fc.Step(time.Second)
	}
	st := wait(t, h)
	if st.Phase != corev1.PodSucceeded || st.ContainerStatuses[0].RestartCount != 2 {
		t.Fatalf("phase %s restarts %d, want Succeeded after 2 restarts", st.Phase, st.ContainerStatuses[0].RestartCount)
	}
}

func TestRestartDelay(t *testing.T) {
	want := []time.Duration{10, 20, 40, 80, 160, 300, 300}
	for i, w := range want {
		if got := RestartDelay(i + 1); got != w*time.Second {
			t.Errorf("RestartDelay(%d) = %s, want %s", i+1, got, w*time.Second)
		}
	}
}

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "x", "B": "y"}
	cases := []struct{ name, in, want string }{
		{"plain", "abc", "abc"},
		{"var", "$(A)-$(B)", "x-y"},
		{"unknown stays", "$(C)", "$(C)"},
		{"escaped", "$$(A)", "$(A)"},
		{"double dollar", "$$", "$"},
		{"lone dollar", "a$b", "a$b"},
		{"trailing dollar", "a$", "a$"},
		{"unterminated", "$(A", "$(A"},
		{"shell var kept", "${A}", "${A}"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Expand(tc.in, vars); got != tc.want {
				t.Fatalf("Expand(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// sharedDir is a directory any user may write, for the containers (which
// run as nobody when the tests run as root) to share files with the test.
func sharedDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "podexec-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	return dir
}

// workDir is a directory for Options.WorkDir: its parents are searchable
// by the containers' users, unlike those of t.TempDir().
func workDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "podexec-pods-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// waitFor polls a real process's observable state (its log, its status).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 20s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// TestReapOrphans plays an agent that was SIGKILLed: its container keeps
// running (its own process group) until the next agent reaps it from the pid
// file, which is the only trace left.
func TestReapOrphans(t *testing.T) {
	dir := t.TempDir()
	o := DefaultOptions()
	o.LogDir, o.WorkDir = dir, workDir(t)
	old, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	pod := shPod("orphan", corev1.RestartPolicyNever, sh("main", "echo ready; sleep 300; echo never"))
	h, err := old.Start(context.Background(), pod, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		data, _ := os.ReadFile(old.LogPath("ns", "orphan", "main"))
		return string(data) == "ready\n"
	})
	// The pid file is written right after the process started (which may
	// already have printed).
	waitFor(t, func() bool { _, err := os.Stat(old.pidPath("ns", "orphan", "main")); return err == nil })
	next, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	n, err := next.Reap(pod)
	if err != nil || n != 1 {
		t.Fatalf("Reap = %d, %v; want 1 process group killed", n, err)
	}
	st := wait(t, h)
	if term := st.ContainerStatuses[0].State.Terminated; term == nil || term.ExitCode != 137 {
		t.Fatalf("the orphan was not SIGKILLed: %+v", st.ContainerStatuses[0].State)
	}
	if n, err := next.Reap(pod); n != 0 || err != nil {
		t.Fatalf("second Reap = %d, %v; want nothing left", n, err)
	}
	done := shPod("done", corev1.RestartPolicyNever, sh("main", "exit 0"))
	wait(t, mustStart(t, next, done))
	if _, err := os.Stat(next.pidPath("ns", "done", "main")); !os.IsNotExist(err) {
		t.Fatalf("pid file left after the container ended: %v", err)
	}
}

func mustStart(t *testing.T, x *Executor, p *corev1.Pod) Handle {
	t.Helper()
	h, err := x.Start(context.Background(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
