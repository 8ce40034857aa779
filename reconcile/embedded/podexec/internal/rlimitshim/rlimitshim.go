package rlimitshim

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
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
// only returns (the exit code) when that fails. Once a limit is lowered the
// Go runtime may no longer be able to map memory (RLIMIT_AS counts what it
// has reserved), so everything is prepared first and the setrlimit and
// execve calls follow each other with nothing allocated between them.
func run(args []string) int {
	type limit struct {
		res int
		rl  syscall.Rlimit
	}
	var lims []limit
	i := 0
	for ; i < len(args) && args[i] != "--"; i++ {
		name, v, _ := strings.Cut(args[i], "=")
		n, err := strconv.ParseUint(v, 10, 64)
		res, ok := map[string]int{"as": syscall.RLIMIT_AS, "nproc": rlimitNproc}[name]
		if err != nil || !ok {
			return fail(fmt.Errorf("bad limit %q", args[i]))
		}
		lims = append(lims, limit{res, syscall.Rlimit{Cur: n, Max: n}})
	}
	if i+2 >= len(args) {
		return fail(fmt.Errorf("no command after --"))
	}
	path, err := syscall.BytePtrFromString(args[i+1])
	argv, err2 := syscall.SlicePtrFromStrings(args[i+2:])
	envv, err3 := syscall.SlicePtrFromStrings(os.Environ())
	if err := errors.Join(err, err2, err3); err != nil {
		return fail(err)
	}
	msg := []byte("jobsync: container not started: exec " + args[i+1] + ": ")
	debug.SetGCPercent(-1)
	runtime.LockOSThread()
	for _, l := range lims {
		if _, _, e := syscall.RawSyscall(syscall.SYS_SETRLIMIT, uintptr(l.res), uintptr(unsafe.Pointer(&l.rl)), 0); e != 0 {
			return fail(fmt.Errorf("setrlimit %d to %d: %w", l.res, l.rl.Cur, e))
		}
	}
	_, _, e := syscall.RawSyscall(syscall.SYS_EXECVE, uintptr(unsafe.Pointer(path)),
		uintptr(unsafe.Pointer(&argv[0])), uintptr(unsafe.Pointer(&envv[0])))
	// Written without allocating: the limits are in force.
	rawWrite(msg)
	rawWrite(unsafe.Slice(unsafe.StringData(e.Error()), len(e.Error())))
	rawWrite([]byte{'\n'})
	return ExitFailure
}

func rawWrite(b []byte) {
	if len(b) > 0 {
		_, _, _ = syscall.RawSyscall(syscall.SYS_WRITE, 2, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	}
}

func fail(err error) int {
	fmt.Fprintf(os.Stderr, "jobsync: container not started: %v\n", err)
	return ExitFailure
}
