package podexec

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"
)

// Container reasons the executor writes into terminated states.
const (
	ReasonCompleted   = "Completed"
	ReasonError       = "Error"
	ReasonNoCommand   = "NoCommand"
	ReasonStartError  = "StartError"
	ReasonConfigError = "CreateContainerConfigError"
	ReasonCrashLoop   = "CrashLoopBackOff"
	// ExitStartFailure is the exit code recorded for a container that could
	// not start (no command, a config error, a missing binary), as container
	// runtimes report 128 for start failures.
	ExitStartFailure = 128
)

// Options configures an Executor.
type Options struct {
	// LogDir is where container output goes: <LogDir>/<ns>/<pod>/<container>.log.
	LogDir string
	// Clock times the restart backoff and the kill grace period.
	Clock clock.WithTicker
	// BaseEnv is the environment every process starts with ("K=V"), before
	// the container's own env. The agent passes its own PATH, HOME, etc.
	BaseEnv []string
	// OnImage, when set, is called once per image the first time a pod uses
	// it: images are never pulled, and the agent says so once per image.
	OnImage func(image string)
	// RunAsUser and RunAsGroup are the user and group of a container whose
	// securityContext and pod securityContext name none. They apply when
	// the agent is root; an agent that is not runs every container as its
	// own user.
	RunAsUser, RunAsGroup int64
	// WorkDir holds each pod's working directory (also its HOME); empty: a
	// jobsync-pods-<hash of LogDir> directory in os.TempDir(), removed by
	// Close. Every parent must be searchable by the pods' users.
	WorkDir string
	// PidsLimit, when positive, bounds the processes of each container
	// (cgroup pids.max, else RLIMIT_NPROC, which counts per user).
	PidsLimit int64
	// NoCgroups keeps the executor out of cgroups even where cgroup v2 is
	// usable: limits by rlimits, the tree kill by process group.
	NoCgroups bool
}

// DefaultOptions returns the real clock, a minimal PATH and containers run
// as nobody (when the agent is root). LogDir must be set.
func DefaultOptions() Options {
	return Options{Clock: clock.RealClock{}, BaseEnv: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		RunAsUser: DefaultRunAsUser, RunAsGroup: DefaultRunAsUser}
}

// Executor runs each pod's containers as local processes: init containers
// first, in order, then the containers in parallel. It implements Runner.
type Executor struct {
	opts     Options
	root     bool   // the agent is root: containers switch users
	workRoot string // see Options.WorkDir
	ownRoot  bool   // workRoot was made by New: Close removes it
	cg       *cgroups
	cgErr    error // why there are no cgroups
	mu       sync.Mutex
	images   map[string]bool
}

var _ Runner = (*Executor)(nil)

// New returns an Executor writing logs below opts.LogDir.
func New(opts Options) (*Executor, error) {
	if opts.LogDir == "" {
		return nil, errors.New("podexec: no log directory given: set Options.LogDir")
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	if err := os.MkdirAll(opts.LogDir, 0o700); err != nil {
		return nil, fmt.Errorf("podexec: create log dir: %w", err)
	}
	x := &Executor{opts: opts, root: os.Geteuid() == 0, images: map[string]bool{}}
	var err error
	if x.workRoot, err = workRoot(opts.WorkDir, opts.LogDir); err != nil {
		return nil, err
	}
	x.ownRoot = opts.WorkDir == ""
	x.cgErr = errors.New("disabled by Options.NoCgroups")
	if !opts.NoCgroups {
		x.cg, x.cgErr = openCgroups()
	}
	return x, nil
}

// Close removes the pods' working directory root when New created it (an
// empty Options.WorkDir). Call it once no pod runs.
func (x *Executor) Close() error {
	if !x.ownRoot {
		return nil
	}
	return os.RemoveAll(x.workRoot)
}

// LogPath is the log file of one container of a pod.
func (x *Executor) LogPath(namespace, pod, container string) string {
	return filepath.Join(x.opts.LogDir, namespace, pod, container+".log")
}

// Images returns the images pods have named so far (never pulled), sorted.
func (x *Executor) Images() []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := make([]string, 0, len(x.images))
	for i := range x.images {
		out = append(out, i)
	}
	sort.Strings(out)
	return out
}

func (x *Executor) noteImages(pod *corev1.Pod) {
	var fresh []string
	x.mu.Lock()
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range list {
			if !x.images[c.Image] {
				x.images[c.Image] = true
				fresh = append(fresh, c.Image)
			}
		}
	}
	x.mu.Unlock()
	if x.opts.OnImage != nil {
		for _, i := range fresh {
			x.opts.OnImage(i)
		}
	}
}

// Start begins running pod and returns at once; the pod's log directory is
// created first so that a failure to create it is an error here.
func (x *Executor) Start(ctx context.Context, pod *corev1.Pod, refs Lookup) (Handle, error) {
	dir := filepath.Join(x.opts.LogDir, pod.Namespace, pod.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("Pod/%s/%s: create log dir: %w", pod.Namespace, pod.Name, err)
	}
	if err := x.makePodDir(pod); err != nil {
		return nil, fmt.Errorf("Pod/%s/%s: create working directory: %w", pod.Namespace, pod.Name, err)
	}
	x.noteImages(pod)
	r := newPodRun(x, pod.DeepCopy(), refs)
	go r.run(ctx)
	return r, nil
}

// podRun is one pod: its status, its current processes and the kill switch.
type podRun struct {
	x      *Executor
	pod    *corev1.Pod
	refs   Lookup
	mu     sync.Mutex
	status corev1.PodStatus
	procs  map[string]*proc
	killed string
	kill   chan struct{}
	done   chan struct{}
}

func newPodRun(x *Executor, pod *corev1.Pod, refs Lookup) *podRun {
	now := metaNow(x.opts.Clock)
	r := &podRun{x: x, pod: pod, refs: refs, procs: map[string]*proc{}, kill: make(chan struct{}), done: make(chan struct{})}
	r.status = corev1.PodStatus{Phase: corev1.PodPending, StartTime: &now, HostIP: "127.0.0.1", PodIP: "127.0.0.1"}
	for _, c := range pod.Spec.InitContainers {
		r.status.InitContainerStatuses = append(r.status.InitContainerStatuses, waiting(c, "PodInitializing"))
	}
	for _, c := range pod.Spec.Containers {
		reason := "ContainerCreating"
		if len(pod.Spec.InitContainers) > 0 {
			reason = "PodInitializing"
		}
		r.status.ContainerStatuses = append(r.status.ContainerStatuses, waiting(c, reason))
	}
	return r
}

func waiting(c corev1.Container, reason string) corev1.ContainerStatus {
	return corev1.ContainerStatus{Name: c.Name, Image: c.Image, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason}}}
}

// Status implements Handle.
func (r *podRun) Status() corev1.PodStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return *r.status.DeepCopy()
}

// Done implements Handle.
func (r *podRun) Done() <-chan struct{} { return r.done }

// Kill implements Handle: SIGTERM to every running container's process
// group, SIGKILL after terminationGracePeriodSeconds; no container starts or
// restarts after it. The pod ends Failed with reason.
func (r *podRun) Kill(reason string) {
	r.mu.Lock()
	if r.killed != "" || isDone(r.done) {
		r.mu.Unlock()
		return
	}
	r.killed = reason
	close(r.kill)
	procs := make([]*proc, 0, len(r.procs))
	for _, p := range r.procs {
		procs = append(procs, p)
	}
	r.mu.Unlock()
	grace := time.Duration(30) * time.Second
	if g := r.pod.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = time.Duration(*g) * time.Second
	}
	for _, p := range procs {
		go p.stop(r.x.opts.Clock, grace)
	}
}

func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// run runs the init containers in order, then the containers in parallel,
// and records the pod's final phase.
func (r *podRun) run(ctx context.Context) {
	defer close(r.done)
	stop := context.AfterFunc(ctx, func() { r.Kill("AgentShutdown") })
	defer stop()
	ok := true
	for i := range r.pod.Spec.InitContainers {
		if !r.runContainer(&r.pod.Spec.InitContainers[i], &r.status.InitContainerStatuses, i) {
			ok = false
			break
		}
	}
	if ok {
		r.setPhase(corev1.PodRunning)
		var wg sync.WaitGroup
		results := make([]bool, len(r.pod.Spec.Containers))
		for i := range r.pod.Spec.Containers {
			wg.Go(func() { results[i] = r.runContainer(&r.pod.Spec.Containers[i], &r.status.ContainerStatuses, i) })
		}
		wg.Wait()
		for _, res := range results {
			ok = ok && res
		}
	}
	// Every container's processes are gone (see execOnce): the directory
	// goes with the pod; the logs stay.
	_ = os.RemoveAll(r.x.podDir(r.pod))
	r.finish(ok)
}

func (r *podRun) setPhase(ph corev1.PodPhase) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status.Phase = ph
}

// finish sets the final phase: Succeeded when every container exited 0 and
// nobody killed the pod, Failed otherwise.
func (r *podRun) finish(ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.killed != "" {
		ok = false
		r.status.Reason = r.killed
		r.status.Message = "the pod was killed: " + r.killed
	}
	r.status.Phase = corev1.PodSucceeded
	if !ok {
		r.status.Phase = corev1.PodFailed
	}
	for _, list := range [][]corev1.ContainerStatus{r.status.InitContainerStatuses, r.status.ContainerStatuses} {
		for i := range list {
			list[i].Ready = false
			if list[i].State.Terminated == nil && list[i].State.Running == nil {
				list[i].State = corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodFailed"}}
			}
		}
	}
}
