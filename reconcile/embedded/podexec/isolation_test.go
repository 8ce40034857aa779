package podexec

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/utils/ptr"
)

// These tests run real containers as other users: they need root, as the
// agent does to switch users (CI runs them as root).
func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the executor switches users only when the agent is root")
	}
}

// runPod starts pod on x, waits for it and returns its status and the log
// of its first container.
func runPod(t *testing.T, x *Executor, pod *corev1.Pod) (corev1.PodStatus, string) {
	t.Helper()
	st := wait(t, mustStart(t, x, pod))
	data, err := os.ReadFile(x.LogPath(pod.Namespace, pod.Name, pod.Spec.Containers[0].Name))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return st, string(data)
}

func TestContainerUser(t *testing.T) {
	needRoot(t)
	cases := []struct {
		name      string
		pod, ctr  *corev1.PodSecurityContext
		ctrSC     *corev1.SecurityContext
		want      string
		configErr string
	}{
		{name: "default is nobody", want: "65534 65534 65534"},
		{name: "pod securityContext", pod: &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](1234), RunAsGroup: ptr.To[int64](2345)}, want: "1234 2345 2345"},
		{name: "container overrides pod, shares the directory by fsGroup", pod: &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](1234), RunAsGroup: ptr.To[int64](2345), FSGroup: ptr.To[int64](5000)},
			ctrSC: &corev1.SecurityContext{RunAsUser: ptr.To[int64](3456)}, want: "3456 2345 2345 5000"},
		{name: "supplemental groups", pod: &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](1234), RunAsGroup: ptr.To[int64](2345), SupplementalGroups: []int64{777}},
			want: "1234 2345 2345 777"},
		{name: "runAsNonRoot refuses root", pod: &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](0), RunAsNonRoot: ptr.To(true)},
			configErr: "runAsNonRoot"},
	}
	x := newExec(t, nil)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := sh("main", `echo $(id -u) $(id -g) $(id -G)`)
			c.SecurityContext = tc.ctrSC
			p := shPod("user-"+strconv.Itoa(i), corev1.RestartPolicyNever, c)
			p.Spec.SecurityContext = tc.pod
			st, log := runPod(t, x, p)
			term := st.ContainerStatuses[0].State.Terminated
			if tc.configErr != "" {
				if term == nil || term.Reason != ReasonConfigError || !strings.Contains(term.Message, tc.configErr) {
					t.Fatalf("want %s mentioning %q, got %+v (log %q)", ReasonConfigError, tc.configErr, term, log)
				}
				return
			}
			if strings.TrimSpace(log) != tc.want {
				t.Fatalf("uid gid groups = %q, want %q", strings.TrimSpace(log), tc.want)
			}
		})
	}
}

// TestContainerCannotReadAgentSecrets: a container must not read the state
// directory's files nor the agent's environment (/proc/<agent>/environ),
// nor get the agent's environment variables.
func TestContainerCannotReadAgentSecrets(t *testing.T) {
	needRoot(t)
	t.Setenv("JOBSYNC_AGENT_ONLY", "agent-secret")
	state := t.TempDir()
	db := filepath.Join(state, "state.db")
	if err := os.WriteFile(db, []byte("STATE-CONTENT\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	o := DefaultOptions()
	o.LogDir, o.WorkDir = filepath.Join(state, "logs"), workDir(t)
	x, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	script := `cat ` + db + ` 2>&1; cat /proc/$PPID/environ >/dev/null 2>&1 && echo READ-AGENT-ENVIRON; ls ` + state + ` 2>&1; env`
	_, log := runPod(t, x, shPod("secrets", corev1.RestartPolicyNever, sh("main", script)))
	for _, leak := range []string{"STATE-CONTENT", "READ-AGENT-ENVIRON", "\nstate.db\n", "agent-secret"} {
		if strings.Contains("\n"+log, leak) {
			t.Errorf("the container saw %q:\n%s", leak, log)
		}
	}
}

// TestSetsidChildrenDieWithThePod: a process that left the container's
// process group (setsid) is killed when the container ends, by itself or
// by Kill.
func TestSetsidChildrenDieWithThePod(t *testing.T) {
	needRoot(t)
	cases := []struct {
		name, script string
		kill         bool
	}{
		{"container exits", setsidSpawn + "exit 0", false},
		{"pod killed", setsidSpawn + "echo ready; sleep 1000", true},
	}
	x := newExec(t, nil)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := shPod("setsid-"+strconv.Itoa(i), corev1.RestartPolicyNever, sh("main", tc.script))
			h := mustStart(t, x, p)
			var pid int
			waitFor(t, func() bool {
				data, _ := os.ReadFile(x.LogPath("ns", p.Name, "main"))
				first, _, _ := strings.Cut(string(data), "\n")
				pid, _ = strconv.Atoi(first)
				return pid > 0
			})
			t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
			if tc.kill {
				h.Kill("DeadlineExceeded")
			}
			wait(t, h)
			if alive(pid) {
				t.Fatalf("the setsid child %d outlived its pod", pid)
			}
		})
	}
}

// setsidSpawn starts a process in a session of its own (out of the
// container's process group), prints its pid once it runs and goes on.
const setsidSpawn = `f=$(mktemp); setsid sh -c 'echo $$$$ > '$f'; exec sleep 1000' & while [ ! -s $f ]; do sleep 0.01; done; cat $f; rm -f $f; `

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(data), ')')
	return i > 0 && i+2 < len(data) && data[i+2] != 'Z'
}

// TestNoInheritedFds: descriptors the agent holds without close-on-exec
// (one it inherited, say) must not reach a container.
func TestNoInheritedFds(t *testing.T) {
	fd, err := syscall.Open("/dev/null", syscall.O_RDONLY, 0) // no O_CLOEXEC
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	x := newExec(t, nil)
	_, log := runPod(t, x, shPod("fds", corev1.RestartPolicyNever, sh("main", `ls /proc/$$$$/fd`)))
	if got := strings.Join(strings.Fields(log), " "); got != "0 1 2" {
		t.Fatalf("the container's descriptors: %q, want only 0 1 2 (fd %d leaked?)", log, fd)
	}
}

// TestPodWorkingDirectory: each pod gets its own directory, owned by its
// user, mode 0700, as working directory and HOME, removed with the pod.
func TestPodWorkingDirectory(t *testing.T) {
	needRoot(t)
	x := newExec(t, nil)
	cwd, _ := os.Getwd()
	_, log := runPod(t, x, shPod("wd", corev1.RestartPolicyNever, sh("main", `pwd; echo "$HOME"; stat -c '%a %u' .; echo x > f && echo wrote`)))
	lines := strings.Split(strings.TrimSpace(log), "\n")
	if len(lines) != 4 {
		t.Fatalf("log %q", log)
	}
	if lines[0] == cwd || lines[0] != lines[1] || lines[2] != "700 65534" || lines[3] != "wrote" {
		t.Fatalf("pwd %q HOME %q mode/owner %q write %q; want a 0700 directory of its own (not the agent's %s) owned by 65534, as HOME", lines[0], lines[1], lines[2], lines[3], cwd)
	}
	if _, err := os.Stat(lines[0]); !os.IsNotExist(err) {
		t.Fatalf("the pod's directory %s is left after the pod: %v", lines[0], err)
	}
}

// TestMemoryLimit: resources.limits.memory is enforced, by the cgroup's
// memory.max or by RLIMIT_AS.
func TestMemoryLimit(t *testing.T) {
	needRoot(t)
	x := newExec(t, nil)
	c := sh("main", `grep 'Max address space' /proc/$$$$/limits; p=$(sed -n 's/^0:://p' /proc/self/cgroup); cat /sys/fs/cgroup$p/memory.max /sys/fs/cgroup/unified$p/memory.max 2>/dev/null; true`)
	c.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}
	st, log := runPod(t, x, shPod("mem", corev1.RestartPolicyNever, c))
	if st.Phase != corev1.PodSucceeded {
		t.Fatalf("phase %s: %+v (log %q)", st.Phase, st.ContainerStatuses[0].State, log)
	}
	rlimit := strings.Contains(log, "Max address space         67108864             67108864")
	cgroup := strings.Contains(log, "\n67108864\n")
	if !rlimit && !cgroup {
		t.Fatalf("no 64Mi memory limit seen by the container:\n%s", log)
	}
}

// TestWithoutCgroups: with no cgroup the memory limit is an rlimit, set by
// the rlimitshim, and what stays in the process group or left it but keeps
// MarkerEnv dies with the container.
func TestWithoutCgroups(t *testing.T) {
	needRoot(t)
	o := DefaultOptions()
	o.LogDir, o.WorkDir, o.NoCgroups = t.TempDir(), workDir(t), true
	x, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	is := x.Isolation()
	if is.Cgroup != "" || !strings.Contains(is.NoCgroup, "NoCgroups") || !strings.Contains(is.Memory, "RLIMIT_AS") || !strings.Contains(is.TreeKill, "process group") {
		t.Fatalf("isolation %+v", is)
	}
	c := sh("main", setsidSpawn+`grep 'Max address space' /proc/$$$$/limits; sleep 1000 & echo $!`)
	c.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")}
	st, log := runPod(t, x, shPod("nocg", corev1.RestartPolicyNever, c))
	if st.Phase != corev1.PodSucceeded || !strings.Contains(log, "Max address space         67108864             67108864") {
		t.Fatalf("phase %s, log %q: want RLIMIT_AS 64Mi", st.Phase, log)
	}
	lines := strings.Split(strings.TrimSpace(log), "\n")
	setsidPid, _ := strconv.Atoi(lines[0])
	pid, _ := strconv.Atoi(lines[len(lines)-1])
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL); _ = syscall.Kill(setsidPid, syscall.SIGKILL) })
	// Without a cgroup the kill is a signal: the pod ends once it is sent
	// and the processes are gone a moment later, not necessarily at once.
	for deadline := time.Now().Add(2 * time.Second); (alive(pid) || alive(setsidPid)) && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if alive(pid) || alive(setsidPid) {
		t.Fatalf("left behind: process group member %d alive %v, setsid child %d (marked) alive %v", pid, alive(pid), setsidPid, alive(setsidPid))
	}

	// The shim reports what it could not do in the container's log.
	bin := filepath.Join(sharedDir(t), "rootonly")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho ran\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	c = corev1.Container{Name: "main", Image: "x", Command: []string{bin}, Resources: c.Resources}
	st, log = runPod(t, x, shPod("noexec", corev1.RestartPolicyNever, c))
	term := st.ContainerStatuses[0].State.Terminated
	if term == nil || term.ExitCode != ExitStartFailure || !strings.Contains(log, "container not started: exec "+bin+": permission denied") {
		t.Fatalf("terminated %+v, log %q", term, log)
	}
}

func TestIsolationReport(t *testing.T) {
	x := newExec(t, nil)
	is := x.Isolation()
	if is.WorkDir == "" || (is.Cgroup == "") == (is.NoCgroup == "") {
		t.Fatalf("isolation %+v: want a work dir and either a cgroup or why not", is)
	}
	if is.Cgroup != "" && !strings.Contains(is.TreeKill, "cgroup.kill") {
		t.Fatalf("isolation %+v: with a cgroup the tree kill is cgroup.kill", is)
	}
	if os.Geteuid() == 0 && !strings.Contains(is.User, "65534:65534") {
		t.Fatalf("isolation %+v: root runs containers as nobody by default", is)
	}
}

func TestNewRefusesUnreachableWorkDir(t *testing.T) {
	o := DefaultOptions()
	o.LogDir, o.WorkDir = t.TempDir(), filepath.Join(t.TempDir(), "pods")
	if err := os.Chmod(filepath.Dir(o.WorkDir), 0o700); err != nil {
		t.Fatal(err)
	}
	_, err := New(o)
	if err == nil || !strings.Contains(err.Error(), "not searchable by the pods' users") {
		t.Fatalf("New = %v, want an error naming the unsearchable parent", err)
	}
}

// TestOwnWorkRoot: without Options.WorkDir the executor makes its own root
// in os.TempDir(), the same for the same logs after a restart but never a
// name someone else planted, and Close removes it.
func TestOwnWorkRoot(t *testing.T) {
	o := DefaultOptions()
	o.LogDir = t.TempDir()
	root := func() string {
		x, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { x.Close() })
		return x.Isolation().WorkDir
	}
	first, again := root(), root()
	if first != again {
		t.Fatalf("work roots %s then %s: want the same for the same LogDir", first, again)
	}
	if err := os.Remove(first); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(t.TempDir(), first); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(first) })
	if other := root(); other == first {
		t.Fatalf("work root %s reused although it is a symbolic link", first)
	}
	o.LogDir = t.TempDir()
	x, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	own := x.Isolation().WorkDir
	if fi, err := os.Stat(own); err != nil || fi.Mode().Perm() != 0o711 {
		t.Fatalf("work root %s: %v %v, want mode 0711", own, fi, err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(own); !os.IsNotExist(err) {
		t.Fatalf("work root %s left after Close: %v", own, err)
	}
}

// TestReapKillsTheTree: an agent that finds a dead agent's container still
// running kills its whole cgroup, or without cgroups its marked processes,
// setsid children included, and removes the pod's directory.
func TestReapKillsTheTree(t *testing.T) {
	needRoot(t)
	for _, noCgroups := range []bool{false, true} {
		t.Run("NoCgroups="+strconv.FormatBool(noCgroups), func(t *testing.T) {
			o := DefaultOptions()
			o.LogDir, o.WorkDir, o.NoCgroups = t.TempDir(), workDir(t), noCgroups
			old, err := New(o)
			if err != nil {
				t.Fatal(err)
			}
			if !noCgroups && old.Isolation().Cgroup == "" {
				t.Skipf("no cgroup v2 here (%s)", old.Isolation().NoCgroup)
			}
			pod := shPod("orphan", corev1.RestartPolicyNever, sh("main", setsidSpawn+"sleep 1000"))
			h := mustStart(t, old, pod)
			var pid int
			waitFor(t, func() bool {
				data, _ := os.ReadFile(old.LogPath("ns", "orphan", "main"))
				pid, _ = strconv.Atoi(strings.TrimSpace(string(data)))
				_, err := os.Stat(old.pidPath("ns", "orphan", "main"))
				return pid > 0 && err == nil
			})
			t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })
			next, err := New(o)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := next.Reap(pod); n != 1 || err != nil {
				t.Fatalf("Reap = %d, %v; want 1", n, err)
			}
			if alive(pid) {
				t.Fatalf("the setsid child %d survived Reap", pid)
			}
			if _, err := os.Stat(next.podDir(pod)); !os.IsNotExist(err) {
				t.Fatalf("the pod's directory is left after Reap: %v", err)
			}
			wait(t, h)
		})
	}
}
