// Package podexec runs a pod's containers as local processes for the embedded
// target: init containers first, in order, then the containers in parallel,
// each in its own process group, with Kubernetes $(VAR) expansion of command
// and args, env from values, ConfigMaps, Secrets and the downward API, the
// working directory, output to <LogDir>/<ns>/<pod>/<container>.log, exit codes
// in the container statuses, in-place restarts for restartPolicy OnFailure,
// and SIGTERM then SIGKILL after terminationGracePeriodSeconds on Kill. Images
// are never pulled: a container without a command fails with reason NoCommand.
// Each running container's process group is recorded in a pid file next to
// its log, so that after the agent was SIGKILLed (its containers survive it)
// the next one can Reap them.
//
// The entry point is New, which returns an Executor (a Runner).
package podexec
