package podexec

import (
	"strconv"

	corev1 "k8s.io/api/core/v1"
)

// limits is what a container run may use: resources.limits memory (bytes)
// and cpu (millicores), and Options.PidsLimit.
type limits struct {
	memory, milliCPU, pids int64
}

func containerLimits(c *corev1.Container, pids int64) limits {
	l := limits{pids: pids}
	if q, ok := c.Resources.Limits[corev1.ResourceMemory]; ok {
		l.memory = q.Value()
	}
	if q, ok := c.Resources.Limits[corev1.ResourceCPU]; ok {
		l.milliCPU = q.MilliValue()
	}
	return l
}

// rlimits are the setrlimit(2) values standing in for the limits the
// cgroups cannot apply: RLIMIT_AS for memory (address space, which counts
// reserved as well as used memory), RLIMIT_NPROC for pids (counted per user,
// not per container). CPU has no rlimit counterpart (RLIMIT_CPU bounds the
// total CPU seconds, not a rate): it is not enforced without cgroups.
func (l limits) rlimits(ctrl map[string]bool) []string {
	var out []string
	if l.memory > 0 && !ctrl["memory"] {
		out = append(out, "as="+strconv.FormatInt(l.memory, 10))
	}
	if l.pids > 0 && !ctrl["pids"] {
		out = append(out, "nproc="+strconv.FormatInt(l.pids, 10))
	}
	return out
}
