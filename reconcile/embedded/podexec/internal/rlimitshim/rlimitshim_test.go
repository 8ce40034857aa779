package rlimitshim

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// shim runs this test binary as the shim (its init takes over) with args.
func shim(args ...string) (string, int) {
	cmd := exec.Command("/proc/self/exe")
	cmd.Args = append([]string{Arg0}, args...)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode()
	}
	return string(out), 0
}

func TestShim(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"address space limit", Args([]string{"as=33554432"}, "/bin/sh", []string{"sh", "-c", "grep 'Max address space' /proc/self/limits"}),
			0, "Max address space         33554432             33554432"},
		{"process limit", Args([]string{"nproc=77"}, "/bin/sh", []string{"sh", "-c", "grep 'Max processes' /proc/self/limits"}),
			0, "Max processes             77                   77"},
		{"exec fails", Args([]string{"as=33554432"}, "/nonexistent/cmd", []string{"cmd"}),
			ExitFailure, "jobsync: container not started: exec /nonexistent/cmd: no such file or directory"},
		{"bad limit", Args([]string{"rss=1"}, "/bin/true", []string{"true"}), ExitFailure, `bad limit "rss=1"`},
		{"no command", []string{"as=1", "--"}, ExitFailure, "no command after --"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, code := shim(tc.args[1:]...)
			if code != tc.code || !strings.Contains(out, tc.out) {
				t.Fatalf("exit %d, output %q; want exit %d with %q", code, out, tc.code, tc.out)
			}
		})
	}
}
