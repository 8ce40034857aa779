package rlimitshim

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Arg0 is the argv[0] that makes a binary importing this package the shim:
//
//	jobsync-podexec-rlimit as=BYTES nproc=N -- /path/to/cmd argv0 args...
const Arg0 = "jobsync-podexec-rlimit"

// ExitFailure is the exit code when the limits cannot be set or the
// command not executed (the message goes to stderr, the container's log).
const ExitFailure = 128

// rlimitNproc is RLIMIT_NPROC, which package syscall does not name.
const rlimitNproc = 6

func init() {
	if len(os.Args) > 1 && os.Args[0] == Arg0 {
		os.Exit(run(os.Args[1:]))
	}
}

// Args is the shim's argv for limits ("as=N", "nproc=N") and a command:
// its resolved path and its argv.
func Args(limits []string, path string, argv []string) []string {
	out := append([]string{Arg0}, limits...)
	return append(append(out, "--", path), argv...)
}

// run sets the limits named in args and execs the command after "--"; it
// only returns (the exit code) when that fails.
func run(args []string) int {
	i := 0
	for ; i < len(args) && args[i] != "--"; i++ {
		name, v, _ := strings.Cut(args[i], "=")
		n, err := strconv.ParseUint(v, 10, 64)
		res, ok := map[string]int{"as": syscall.RLIMIT_AS, "nproc": rlimitNproc}[name]
		if err != nil || !ok {
			return fail(fmt.Errorf("bad limit %q", args[i]))
		}
		if err := syscall.Setrlimit(res, &syscall.Rlimit{Cur: n, Max: n}); err != nil {
			return fail(fmt.Errorf("setrlimit %s=%d: %w", name, n, err))
		}
	}
	if i+2 >= len(args) {
		return fail(fmt.Errorf("no command after --"))
	}
	err := syscall.Exec(args[i+1], args[i+2:], os.Environ())
	return fail(fmt.Errorf("exec %s: %w", args[i+1], err))
}

func fail(err error) int {
	fmt.Fprintf(os.Stderr, "jobsync: container not started: %v\n", err)
	return ExitFailure
}
