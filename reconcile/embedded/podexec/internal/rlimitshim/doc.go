// Package rlimitshim lowers a process's rlimits and execs a command: the
// podexec executor re-executes its own binary (/proc/self/exe) under the
// argv[0] Arg0 to apply a container's limits where cgroups cannot. Go
// cannot set rlimits between fork and exec, and once the child runs as the
// pod's user the agent may not lower them from outside (prlimit(2) on
// another user's process needs CAP_SYS_RESOURCE); the shim runs as that user
// already and lowers its own limits, which needs no privilege.
//
// The shim runs from this package's init, which has no dependencies outside
// the standard library and so runs before the heavy initialisation of the
// rest of the binary (API schemes, clients): starting it costs little more
// than the exec.
package rlimitshim
