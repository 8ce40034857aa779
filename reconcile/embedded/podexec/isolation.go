package podexec

import (
	"fmt"
	"os"
)

// Isolation says how this executor confines containers on this host, for
// the agent to log once at start (the package does not log).
type Isolation struct {
	// User: who containers run as.
	User string
	// WorkDir holds the pods' working directories.
	WorkDir string
	// Cgroup is the parent of the containers' cgroups; empty without.
	Cgroup string
	// NoCgroup says why there are no cgroups (empty with them).
	NoCgroup string
	// TreeKill: how a container's leftover processes are killed.
	TreeKill string
	// Memory, CPU and Pids: how each limit is enforced, or that it is not.
	Memory, CPU, Pids string
}

// Isolation reports how containers are confined.
func (x *Executor) Isolation() Isolation {
	is := Isolation{WorkDir: x.workRoot, TreeKill: "process group, and the processes of its user that keep " + MarkerEnv + " in their environment (one that clears it or changes user escapes)",
		Memory: "rlimit RLIMIT_AS (address space)", CPU: "not enforced (needs the cgroup v2 cpu controller)",
		Pids: "rlimit RLIMIT_NPROC (counted per user)"}
	if x.root {
		is.User = fmt.Sprintf("securityContext runAsUser/runAsGroup, else %d:%d", x.opts.RunAsUser, x.opts.RunAsGroup)
	} else {
		is.User = fmt.Sprintf("the agent's own user (uid %d): the agent is not root, runAsUser is ignored", os.Geteuid())
	}
	if x.opts.PidsLimit <= 0 {
		is.Pids = "none set"
	}
	if x.cg == nil {
		is.NoCgroup = x.cgErr.Error()
		return is
	}
	is.Cgroup, is.TreeKill = x.cg.dir, "cgroup.kill of the container's cgroup"
	if x.cg.ctrl["memory"] {
		is.Memory = "cgroup v2 memory.max"
	}
	if x.cg.ctrl["cpu"] {
		is.CPU = "cgroup v2 cpu.max"
	}
	if x.cg.ctrl["pids"] && x.opts.PidsLimit > 0 {
		is.Pids = "cgroup v2 pids.max"
	}
	return is
}
