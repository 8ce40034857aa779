// Package podexec runs a pod's containers as local processes for the embedded
// target: init containers first, in order, then the containers in parallel,
// each in its own process group, with Kubernetes $(VAR) expansion of command
// and args, env from values, ConfigMaps, Secrets and the downward API, the
// working directory, output to <LogDir>/<ns>/<pod>/<container>.log, exit codes
// in the container statuses, in-place restarts for restartPolicy OnFailure,
// and SIGTERM then SIGKILL after terminationGracePeriodSeconds on Kill. Images
// are never pulled: a container without a command fails with reason NoCommand.
// Each running container's process group (and cgroup) is recorded in a pid
// file next to its log, so that after the agent was SIGKILLed (its containers
// survive it) the next one can Reap them.
//
// Containers are confined as far as processes can be (docs/security.md,
// "Embedded executor"): when the agent is root they run as the
// securityContext's user, else Options.RunAsUser (nobody); each pod has a
// working directory and HOME of its own, removed with it; a container gets
// only its own environment and no descriptor of the agent's but 0, 1 and 2;
// with cgroup v2 each container has a cgroup, killed whole (setsid children
// included) when the container ends (without cgroups, the processes keeping
// its MarkerEnv are), which carries its resources.limits
// where the controllers are available; other limits are rlimits, set by
// re-executing the binary as the rlimitshim. Executor.Isolation says which
// applies on this host.
//
// The entry point is New, which returns an Executor (a Runner).
package podexec
