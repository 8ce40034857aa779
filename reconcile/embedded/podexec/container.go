package podexec

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"

	"github.com/jobsync/jobsync/reconcile/embedded/podexec/internal/rlimitshim"
)

func metaNow(c clock.Clock) metav1.Time { return metav1.NewTime(c.Now()) }

// proc is one running container process (the leader of its process group)
// and, with cgroups, its cgroup.
type proc struct {
	pid    int
	cg     *cgroup
	marker string // without cgroups: the MarkerEnv value of its processes
	uid    uint32 // and their user
	exited chan struct{}
}

// stop sends SIGTERM to the process group (and to every process of the
// cgroup, some may have left the group), then SIGKILL after grace.
func (p *proc) stop(c clock.WithTicker, grace time.Duration) {
	p.signal(syscall.SIGTERM)
	t := c.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.exited:
		// The leader is gone and execOnce killed the rest.
	case <-t.C():
		p.signal(syscall.SIGKILL)
	}
}

// signal sends sig to the process group and to the processes that left it:
// those of the cgroup, else those marked with MarkerEnv.
func (p *proc) signal(sig syscall.Signal) {
	_ = syscall.Kill(-p.pid, sig)
	if p.cg != nil {
		p.cg.signal(sig)
	} else if p.marker != "" {
		signalMarked(p.marker, p.uid, sig)
	}
}

// end kills what is left of the container once its leader exited: the
// process group and, with cgroups, the whole cgroup (setsid children
// included), which it then removes; without, the marked processes.
func (p *proc) end() {
	_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	if p.cg != nil {
		_ = p.cg.kill()
	} else if p.marker != "" {
		killMarked(p.marker, p.uid)
	}
}

// result is how one run of a container ended.
type result struct {
	started bool
	code    int32
	reason  string
	msg     string
	start   metav1.Time
	// final: do not restart (a start failure or a kill).
	final bool
}

// runContainer runs container c (status list[i]) until it succeeds, fails
// under restartPolicy Never, or the pod is killed; under OnFailure a failed
// container restarts in place after the kubelet's backoff. It reports success.
func (r *podRun) runContainer(c *corev1.Container, list *[]corev1.ContainerStatus, i int) bool {
	for {
		res := r.execOnce(c, list, i)
		now := metaNow(r.x.opts.Clock)
		term := &corev1.ContainerStateTerminated{ExitCode: res.code, Reason: res.reason, Message: res.msg, StartedAt: res.start, FinishedAt: now}
		r.mu.Lock()
		st := &(*list)[i]
		st.State, st.Ready, st.Started = corev1.ContainerState{Terminated: term}, false, ptr.To(false)
		restart := res.code != 0 && !res.final && r.killed == "" && r.pod.Spec.RestartPolicy == corev1.RestartPolicyOnFailure
		var delay time.Duration
		if restart {
			st.RestartCount++
			st.LastTerminationState = corev1.ContainerState{Terminated: term}
			delay = RestartDelay(int(st.RestartCount))
			st.State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: ReasonCrashLoop,
				Message: fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s", delay, c.Name, r.pod.Name, r.pod.Namespace)}}
		}
		r.mu.Unlock()
		if res.code == 0 && res.started {
			return true
		}
		if !restart {
			return false
		}
		t := r.x.opts.Clock.NewTimer(delay)
		select {
		case <-t.C():
		case <-r.kill:
			t.Stop()
			return false
		}
	}
}

// RestartDelay is the kubelet's backoff before the n-th in-place restart:
// 10 s doubling, capped at 5 minutes.
func RestartDelay(n int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < n && d < 5*time.Minute; i++ {
		d *= 2
	}
	return min(d, 5*time.Minute)
}

// execOnce starts the container's process and waits for it.
func (r *podRun) execOnce(c *corev1.Container, list *[]corev1.ContainerStatus, i int) result {
	now := metaNow(r.x.opts.Clock)
	fail := func(reason, msg string) result {
		return result{code: ExitStartFailure, reason: reason, msg: msg, start: now, final: true}
	}
	env, vars, err := containerEnv(r.pod, c, r.refs)
	if err != nil {
		return fail(ReasonConfigError, err.Error())
	}
	id, err := r.x.containerUser(r.pod, c)
	if err != nil {
		return fail(ReasonConfigError, (&ConfigError{c.Name, err.Error()}).Error())
	}
	if len(c.Command) == 0 {
		return fail(ReasonNoCommand, fmt.Sprintf("image %s not pulled; no command: the embedded target runs containers as local processes, so the container needs a command", c.Image))
	}
	argv := make([]string, 0, len(c.Command)+len(c.Args))
	for _, a := range append(append([]string(nil), c.Command...), c.Args...) {
		argv = append(argv, Expand(a, vars))
	}
	logf, err := os.OpenFile(r.x.LogPath(r.pod.Namespace, r.pod.Name, c.Name), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fail(ReasonStartError, "open log: "+err.Error())
	}
	defer logf.Close()
	cmd, cg, err := r.command(c, argv, env, id)
	if err != nil {
		return fail(ReasonStartError, err.Error())
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	p, res, ok := r.startProc(cmd, c.Name, list, i, cg)
	if !ok {
		if cg != nil {
			_ = cg.kill()
		}
		return res
	}
	err = cmd.Wait()
	p.end()
	close(p.exited)
	_ = os.Remove(r.x.pidPath(r.pod.Namespace, r.pod.Name, c.Name))
	r.mu.Lock()
	delete(r.procs, c.Name)
	r.mu.Unlock()
	code, reason := exitCode(cmd, err)
	return result{started: true, code: code, reason: reason, start: res.start, final: r.isKilled()}
}

// command prepares the container's process: only its own environment (the
// executor's BaseEnv, HOME, HOSTNAME, its env), its directory in the pod
// (containerDir) as working directory unless workingDir names one, its own
// process group, its user, its cgroup, and the rlimits the cgroup cannot apply (through
// the rlimitshim).
func (r *podRun) command(c *corev1.Container, argv []string, env []envVar, id *identity) (*exec.Cmd, *cgroup, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	dir := r.x.containerDir(r.pod, id)
	cmd.Env = append(append([]string(nil), r.x.opts.BaseEnv...), "HOME="+dir)
	if r.pod.Spec.Hostname != "" {
		cmd.Env = append(cmd.Env, "HOSTNAME="+r.pod.Spec.Hostname)
	} else {
		cmd.Env = append(cmd.Env, "HOSTNAME="+r.pod.Name)
	}
	for _, v := range env {
		cmd.Env = append(cmd.Env, v.name+"="+v.value)
	}
	cmd.Dir = dir
	if c.WorkingDir != "" {
		cmd.Dir = c.WorkingDir
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: id.credential()}
	lim := containerLimits(c, r.x.opts.PidsLimit)
	var cg *cgroup
	var ctrl map[string]bool
	if r.x.cg != nil {
		var err error
		if cg, err = r.x.cg.create(lim); err != nil {
			return nil, nil, err
		}
		cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD, ctrl = true, int(cg.fd.Fd()), r.x.cg.ctrl
	}
	if cg == nil {
		cmd.Env = append(cmd.Env, MarkerEnv+"="+newMarker()) // last: the spec cannot change it
	}
	if rl := lim.rlimits(ctrl); len(rl) > 0 && cmd.Err == nil {
		cmd.Args, cmd.Path = rlimitshim.Args(rl, cmd.Path, cmd.Args), "/proc/self/exe"
	}
	closeInheritedFds()
	return cmd, cg, nil
}

// startProc starts cmd unless the pod was killed, registers it for Kill and
// marks the container Running.
func (r *podRun) startProc(cmd *exec.Cmd, name string, list *[]corev1.ContainerStatus, i int, cg *cgroup) (*proc, result, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := metaNow(r.x.opts.Clock)
	if r.killed != "" {
		return nil, result{code: ExitStartFailure, reason: ReasonError, msg: "not started: the pod was killed: " + r.killed, start: now, final: true}, false
	}
	err := cmd.Start()
	if cg != nil {
		cg.fd.Close()
	}
	if err != nil {
		return nil, result{code: ExitStartFailure, reason: ReasonStartError, msg: err.Error(), start: now, final: true}, false
	}
	p := &proc{pid: cmd.Process.Pid, cg: cg, exited: make(chan struct{})}
	if cg == nil {
		p.marker = strings.TrimPrefix(cmd.Env[len(cmd.Env)-1], MarkerEnv+"=")
		p.uid = uint32(os.Geteuid())
		if c := cmd.SysProcAttr.Credential; c != nil {
			p.uid = c.Uid
		}
	}
	r.procs[name] = p
	// Best effort: without the file, an agent SIGKILLed now cannot reap it later.
	_ = r.x.writePidFile(r.pod.Namespace, r.pod.Name, name, p)
	st := &(*list)[i]
	st.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}
	st.Started, st.Ready = ptr.To(true), true
	return p, result{start: now}, true
}

func (r *podRun) isKilled() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.killed != ""
}

// exitCode returns the process's exit code (128+signal when a signal ended
// it) and the kubelet's reason for it.
func exitCode(cmd *exec.Cmd, err error) (int32, string) {
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return ExitStartFailure, ReasonError
	}
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case ok && ws.Signaled():
		return 128 + int32(ws.Signal()), ReasonError
	case cmd.ProcessState.ExitCode() == 0:
		return 0, ReasonCompleted
	}
	return int32(cmd.ProcessState.ExitCode()), ReasonError
}
