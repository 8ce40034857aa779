package podexec

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	corev1 "k8s.io/api/core/v1"
)

// Reaper kills what is left of a pod's processes after the process that ran
// them (the agent) died without stopping them: a SIGKILL of the agent does
// not reach the containers, which run in their own process groups.
type Reaper interface {
	// Reap SIGKILLs the process groups of the pod's containers that are still
	// alive and returns how many it killed.
	Reap(pod *corev1.Pod) (int, error)
}

var _ Reaper = (*Executor)(nil)

// pidPath is the file recording a running container's process group:
// "<pid> <start time in clock ticks since boot> <cgroup directory> <marker>
// <uid>" (the start time tells the process apart from a later one that
// reuses the pid; "-" for no cgroup, no marker).
func (x *Executor) pidPath(namespace, pod, container string) string {
	return filepath.Join(x.opts.LogDir, namespace, pod, container+".pid")
}

// writePidFile records a started container's process group leader.
func (x *Executor) writePidFile(namespace, pod, container string, p *proc) error {
	pid, cgroup, marker := p.pid, "-", "-"
	if p.cg != nil {
		cgroup = p.cg.path
	}
	if p.marker != "" {
		marker = p.marker
	}
	start, err := procStartTime(pid)
	if err != nil {
		return err
	}
	// Written aside and renamed: a reader never sees half a file.
	path := x.pidPath(namespace, pod, container)
	if err := os.WriteFile(path+".tmp", fmt.Appendf(nil, "%d %d %s %s %d\n", pid, start, cgroup, marker, p.uid), 0o600); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

// Reap implements Reaper from the pid files of the pod's containers: a
// group whose leader still runs with the recorded start time is killed; a
// leader that is gone or was replaced by another process is left alone.
// A recorded cgroup is killed and removed whole, whatever its leader (else
// the processes keeping the recorded marker); the pod's working directory
// is removed.
func (x *Executor) Reap(pod *corev1.Pod) (int, error) {
	killed := 0
	var errs []error
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for _, c := range list {
			path := x.pidPath(pod.Namespace, pod.Name, c.Name)
			ok, err := reapOne(path)
			if err != nil {
				errs = append(errs, fmt.Errorf("Pod/%s/%s: container %s: %w", pod.Namespace, pod.Name, c.Name, err))
			}
			if ok {
				killed++
			}
		}
	}
	if err := os.RemoveAll(x.podDir(pod)); err != nil {
		errs = append(errs, fmt.Errorf("Pod/%s/%s: remove working directory: %w", pod.Namespace, pod.Name, err))
	}
	return killed, errors.Join(errs...)
}

func reapOne(path string) (bool, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer os.Remove(path)
	var pid int
	var start uint64
	if _, err := fmt.Sscanf(string(data), "%d %d", &pid, &start); err != nil || pid <= 1 {
		return false, fmt.Errorf("bad pid file %s: %q", path, data)
	}
	found := false
	if f := strings.Fields(string(data)); len(f) == 5 {
		if found, err = reapTree(f[2], f[3], f[4]); err != nil || filepath.IsAbs(f[2]) {
			return found, err
		}
	}
	now, err := procStartTime(pid)
	if err != nil || now != start {
		return found, nil // gone, or the pid now names another process
	}
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return false, fmt.Errorf("kill process group %d: %w", pid, err)
	}
	return true, nil
}

// reapTree kills what a pid file's cgroup or marker names: the whole
// cgroup, or the processes of the user that keep the marker. It reports
// whether it found any.
func reapTree(cgroup, marker, uid string) (bool, error) {
	if filepath.IsAbs(cgroup) {
		alive := len(cgroupPids(cgroup)) > 0
		return alive, killCgroup(cgroup)
	}
	u, err := strconv.ParseUint(uid, 10, 32)
	if marker == "-" || err != nil {
		return false, nil
	}
	found := signalMarked(marker, uint32(u), syscall.SIGKILL) > 0
	killMarked(marker, uint32(u))
	return found, nil
}

// procStartTime reads field 22 (starttime) of /proc/<pid>/stat.
func procStartTime(pid int) (uint64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	fields := strings.Fields(string(data[i+1:]))
	// fields[0] is field 3 (state): starttime, field 22, is fields[19].
	if len(fields) < 20 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return strconv.ParseUint(fields[19], 10, 64)
}
