package podexec

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cgroupParent is the cgroup (below the agent's own) that holds one cgroup
// per running container.
const cgroupParent = "jobsync-pods"

// cgroups is where the executor creates the containers' cgroups (cgroup v2)
// and which resource controllers it may set there.
type cgroups struct {
	dir  string
	ctrl map[string]bool // "memory", "cpu", "pids"
}

// openCgroups finds the agent's own cgroup v2 directory (the cgroup2 mount
// in /proc/self/mountinfo joined with the "0::" line of /proc/self/cgroup),
// creates jobsync-pods below it and enables the memory, cpu and pids
// controllers there when the hierarchy lets it (a cgroup that holds
// processes, the agent's own unless it is the root, cannot hand controllers
// to its children). An error means no cgroups: limits fall back to rlimits
// and the tree kill to the process group.
func openCgroups() (*cgroups, error) {
	base, err := ownCgroupDir()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(base, cgroupParent)
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("create cgroup %s: %w", dir, err)
	}
	// cgroup.kill (Linux 5.14) also vouches for clone3 into a cgroup (5.7).
	if _, err := os.Stat(filepath.Join(dir, "cgroup.kill")); err != nil {
		return nil, fmt.Errorf("cgroup %s has no cgroup.kill (Linux before 5.14): %w", dir, err)
	}
	g := &cgroups{dir: dir, ctrl: map[string]bool{}}
	for _, c := range []string{"memory", "cpu", "pids"} {
		// Best effort: each write fails when the controller is not
		// available or the parent holds processes.
		_ = os.WriteFile(filepath.Join(base, "cgroup.subtree_control"), []byte("+"+c), 0)
		_ = os.WriteFile(filepath.Join(dir, "cgroup.subtree_control"), []byte("+"+c), 0)
	}
	on, err := os.ReadFile(filepath.Join(dir, "cgroup.subtree_control"))
	if err != nil {
		return nil, fmt.Errorf("cgroup %s: %w", dir, err)
	}
	for _, c := range strings.Fields(string(on)) {
		g.ctrl[c] = true
	}
	return g, nil
}

// ownCgroupDir is the directory of the agent's cgroup v2.
func ownCgroupDir() (string, error) {
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	var rel string
	found := false
	for line := range strings.Lines(string(data)) {
		if p, ok := strings.CutPrefix(strings.TrimSpace(line), "0::"); ok {
			rel, found = p, true
		}
	}
	if !found {
		return "", errors.New("no cgroup v2: /proc/self/cgroup has no 0:: line")
	}
	mount, root, err := cgroup2Mount()
	if err != nil {
		return "", err
	}
	rel, ok := strings.CutPrefix(rel, root)
	if !ok {
		return "", fmt.Errorf("cgroup %s is outside the cgroup2 mount's root %s", rel, root)
	}
	return filepath.Join(mount, rel), nil
}

// cgroup2Mount reads /proc/self/mountinfo for the first cgroup2 mount: its
// mount point and the cgroup path it shows.
func cgroup2Mount() (mount, root string, err error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", "", err
	}
	defer f.Close()
	return findCgroup2(f)
}

func findCgroup2(r io.Reader) (mount, root string, err error) {
	s := bufio.NewScanner(r)
	for s.Scan() {
		// id parent major:minor root mountpoint options [optional...] - fstype source superoptions
		pre, post, ok := strings.Cut(s.Text(), " - ")
		fields, fs := strings.Fields(pre), strings.Fields(post)
		if ok && len(fields) >= 5 && len(fs) > 0 && fs[0] == "cgroup2" {
			return unescapeMount(fields[4]), unescapeMount(fields[3]), nil
		}
	}
	if err := s.Err(); err != nil {
		return "", "", err
	}
	return "", "", errors.New("no cgroup2 file system mounted")
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// cgroup is one container's cgroup: its processes, whatever they fork and
// however they detach (setsid, double fork), stay in it.
type cgroup struct {
	path string
	fd   *os.File // the directory, for SysProcAttr.CgroupFD
}

// create makes a new cgroup for one container run with lim applied
// through the controllers the parent enabled.
func (g *cgroups) create(lim limits) (*cgroup, error) {
	path, err := os.MkdirTemp(g.dir, "c-")
	if err != nil {
		return nil, fmt.Errorf("create cgroup: %w", err)
	}
	set := func(file, value string) error {
		if err := os.WriteFile(filepath.Join(path, file), []byte(value), 0); err != nil {
			return fmt.Errorf("cgroup %s: set %s to %s: %w", path, file, value, err)
		}
		return nil
	}
	var errs []error
	if lim.memory > 0 && g.ctrl["memory"] {
		errs = append(errs, set("memory.max", strconv.FormatInt(lim.memory, 10)), set("memory.swap.max", "0"))
	}
	if lim.milliCPU > 0 && g.ctrl["cpu"] {
		// cpu.max: quota and period in microseconds, as the kubelet writes it.
		errs = append(errs, set("cpu.max", fmt.Sprintf("%d 100000", max(lim.milliCPU*100, 1000))))
	}
	if lim.pids > 0 && g.ctrl["pids"] {
		errs = append(errs, set("pids.max", strconv.FormatInt(lim.pids, 10)))
	}
	// memory.swap.max is missing without swap accounting: not an error.
	errs = slices.DeleteFunc(errs, func(e error) bool { return e == nil || errors.Is(e, os.ErrNotExist) })
	fd, err := os.Open(path)
	if err == nil && len(errs) == 0 {
		return &cgroup{path: path, fd: fd}, nil
	}
	if fd != nil {
		fd.Close()
	}
	_ = os.Remove(path)
	return nil, errors.Join(append(errs, err)...)
}

// signal sends sig to every process in the cgroup.
func (c *cgroup) signal(sig syscall.Signal) {
	for _, pid := range cgroupPids(c.path) {
		_ = syscall.Kill(pid, sig)
	}
}

// kill SIGKILLs every process in the cgroup (cgroup.kill, Linux 5.14; on
// older kernels each listed pid), waits until it is empty and removes it.
func (c *cgroup) kill() error {
	c.fd.Close() // closed after the start already; a second Close is harmless
	return killCgroup(c.path)
}

func killCgroup(path string) error {
	// Most often the container left nothing behind: the cgroup is empty
	// and goes at once.
	err := syscall.Rmdir(path)
	if err == nil || errors.Is(err, syscall.ENOENT) {
		return nil
	}
	if err := os.WriteFile(filepath.Join(path, "cgroup.kill"), []byte("1"), 0); err != nil {
		for _, pid := range cgroupPids(path) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	// SIGKILLed processes leave the cgroup as they exit, within
	// milliseconds; the cgroup can only be removed once it is empty.
	for range 2000 {
		if err = syscall.Rmdir(path); err != syscall.EBUSY {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err != nil && !errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("remove cgroup %s: %w", path, err)
	}
	return nil
}

func cgroupPids(path string) []int {
	data, err := os.ReadFile(filepath.Join(path, "cgroup.procs"))
	if err != nil {
		return nil
	}
	var pids []int
	for f := range bytes.FieldsSeq(data) {
		if pid, err := strconv.Atoi(string(f)); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}
