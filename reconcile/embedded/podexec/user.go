package podexec

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	corev1 "k8s.io/api/core/v1"
)

// DefaultRunAsUser is the user (and group) containers run as when the agent
// is root and neither the container's nor the pod's securityContext names
// one: nobody (and nogroup).
const DefaultRunAsUser = 65534

// identity is the user a container runs as; nil runs it as the agent's user.
type identity struct {
	uid, gid uint32
	groups   []uint32
}

func (id *identity) credential() *syscall.Credential {
	if id == nil {
		return nil
	}
	return &syscall.Credential{Uid: id.uid, Gid: id.gid, Groups: id.groups}
}

// containerUser resolves the user container c of pod runs as, as the
// kubelet does: the container's securityContext runAsUser/runAsGroup, else
// the pod's, else Options.RunAsUser/RunAsGroup. runAsNonRoot with user 0 is
// a config error. When the agent is not root it cannot switch users: every
// container runs as the agent's user (nil).
func (x *Executor) containerUser(pod *corev1.Pod, c *corev1.Container) (*identity, error) {
	uid, gid := x.opts.RunAsUser, x.opts.RunAsGroup
	var nonRoot *bool
	var groups []uint32
	if sc := pod.Spec.SecurityContext; sc != nil {
		uid, gid, nonRoot = pick(sc.RunAsUser, uid), pick(sc.RunAsGroup, gid), pickBool(sc.RunAsNonRoot, nonRoot)
		for _, g := range sc.SupplementalGroups {
			groups = append(groups, uint32(g))
		}
		if sc.FSGroup != nil {
			groups = append(groups, uint32(*sc.FSGroup))
		}
	}
	if c != nil && c.SecurityContext != nil {
		sc := c.SecurityContext
		uid, gid, nonRoot = pick(sc.RunAsUser, uid), pick(sc.RunAsGroup, gid), pickBool(sc.RunAsNonRoot, nonRoot)
	}
	if nonRoot != nil && *nonRoot && uid == 0 {
		return nil, errors.New("runAsNonRoot is set but the container would run as root (runAsUser 0)")
	}
	if !x.root {
		return nil, nil
	}
	if uid < 0 || gid < 0 || uid > 1<<32-2 || gid > 1<<32-2 {
		return nil, fmt.Errorf("runAsUser %d / runAsGroup %d: not a valid user or group id", uid, gid)
	}
	return &identity{uid: uint32(uid), gid: uint32(gid), groups: groups}, nil
}

func pick(v *int64, def int64) int64 {
	if v != nil {
		return *v
	}
	return def
}

func pickBool(v, def *bool) *bool {
	if v != nil {
		return v
	}
	return def
}

// workRoot returns the directory holding the pods' working directories:
// dir, or when dir is empty jobsync-pods-<hash of key> in os.TempDir() (the
// same for the same state across restarts, so that Reap finds a dead
// agent's pod directories; a fresh one if that name is taken by anything
// but a directory of the agent's user). It is the agent's, mode 0711: a pod's
// user may enter its own directory below it but not list the others. Every
// parent must be searchable by others (the pods' users), which rules out the
// state directory (0700).
func workRoot(dir, key string) (string, error) {
	if dir == "" {
		var err error
		if dir, err = tempRoot(key); err != nil {
			return "", fmt.Errorf("podexec: create the pods' working directory root: %w", err)
		}
	} else if err := os.MkdirAll(dir, 0o711); err != nil {
		return "", fmt.Errorf("podexec: create the pods' working directory root: %w", err)
	}
	if err := os.Chmod(dir, 0o711); err != nil {
		return "", fmt.Errorf("podexec: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("podexec: %w", err)
	}
	for p := filepath.Dir(abs); ; p = filepath.Dir(p) {
		fi, err := os.Stat(p)
		if err != nil {
			return "", fmt.Errorf("podexec: %w", err)
		}
		if fi.Mode().Perm()&0o001 == 0 {
			return "", fmt.Errorf("podexec: working directory root %s: %s (mode %s) is not searchable by the pods' users: make it searchable (chmod o+x) or choose another Options.WorkDir", abs, p, fi.Mode().Perm())
		}
		if p == filepath.Dir(p) {
			return abs, nil
		}
	}
}

// tempRoot makes (or finds again) the work root for key in os.TempDir().
// A world-writable directory: the name is only reused when it is a real
// directory owned by the agent's user, never a symbolic link or another
// user's.
func tempRoot(key string) (string, error) {
	sum := sha256.Sum256([]byte(key))
	dir := filepath.Join(os.TempDir(), "jobsync-pods-"+hex.EncodeToString(sum[:6]))
	err := os.Mkdir(dir, 0o711)
	if err == nil {
		return dir, nil
	}
	if fi, lerr := os.Lstat(dir); errors.Is(err, os.ErrExist) && lerr == nil && fi.IsDir() {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) == os.Geteuid() {
			return dir, nil
		}
	}
	return os.MkdirTemp("", "jobsync-pods-")
}

// podDir is the working directory (and HOME) of a pod's containers.
func (x *Executor) podDir(pod *corev1.Pod) string {
	// Namespace and pod names are DNS names: "_" cannot occur in them.
	return filepath.Join(x.workRoot, pod.Namespace+"_"+pod.Name)
}

// makePodDir creates the pod's working directory afresh (a leftover of an
// agent that died is removed), mode 0700, owned by the user every container
// runs as; with an fsGroup, by the pod's user, group fsGroup and mode 0770,
// so that containers running as other users of the group share it (as they
// share volumes in Kubernetes). When the containers run as different users
// and no fsGroup is set, the pod's directory stays the agent's, mode 0711,
// and each of those users gets a directory of its own in it, uid-<uid>, mode
// 0700 (containerDir): no container can read another user's files.
func (x *Executor) makePodDir(pod *corev1.Pod) error {
	dir := x.podDir(pod)
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	owner, split := x.podDirUsers(pod)
	if split != nil {
		if err := os.Chmod(dir, 0o711); err != nil {
			return err
		}
		for _, id := range split {
			sub := x.containerDir(pod, id)
			if err := os.Mkdir(sub, 0o700); err != nil {
				return err
			}
			if err := os.Chown(sub, int(id.uid), int(id.gid)); err != nil {
				return err
			}
		}
		return nil
	}
	if owner == nil {
		return nil // not root, or every container is a config error: the agent's user owns it
	}
	gid := int(owner.gid)
	if sc := pod.Spec.SecurityContext; sc != nil && sc.FSGroup != nil {
		gid = int(*sc.FSGroup)
		if err := os.Chmod(dir, 0o770); err != nil {
			return err
		}
	}
	return os.Chown(dir, int(owner.uid), gid)
}

// podDirUsers returns who owns the pod's directory: with an fsGroup the
// pod's user (else the first container's), otherwise the one user all its
// containers run as. When they run as different users without an fsGroup,
// owner is nil and split holds one identity per user (the first container's
// of that user), each given a directory of its own. Containers whose user is
// a config error are left out (they never start); nil, nil when the agent
// is not root.
func (x *Executor) podDirUsers(pod *corev1.Pod) (owner *identity, split []*identity) {
	var ids []*identity
	seen := map[uint32]bool{}
	for _, list := range [][]corev1.Container{pod.Spec.InitContainers, pod.Spec.Containers} {
		for i := range list {
			if id, err := x.containerUser(pod, &list[i]); err == nil && id != nil && !seen[id.uid] {
				seen[id.uid] = true
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		return nil, nil
	}
	if sc := pod.Spec.SecurityContext; sc != nil && sc.FSGroup != nil {
		if id, err := x.containerUser(pod, nil); err == nil && id != nil {
			return id, nil
		}
		return ids[0], nil
	}
	if len(ids) > 1 {
		return nil, ids
	}
	return ids[0], nil
}

// containerDir is the working directory (and HOME) of a container running
// as id: the pod's directory, or its user's own directory in it when the
// pod's directory is split by user (makePodDir).
func (x *Executor) containerDir(pod *corev1.Pod, id *identity) string {
	dir := x.podDir(pod)
	if _, split := x.podDirUsers(pod); split != nil && id != nil {
		return filepath.Join(dir, "uid-"+strconv.FormatUint(uint64(id.uid), 10))
	}
	return dir
}

// closeInheritedFds marks every descriptor above stderr close-on-exec. Go
// opens its own files so, but descriptors the agent inherited from its
// parent (or a library opened without O_CLOEXEC) would otherwise pass to
// every container.
func closeInheritedFds() {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}
