package main

import (
	"runtime"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	code, out, errs := runValidateCLI(t, "", nil, "version")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"jobsync " + version, "commit ", runtime.Version(), runtime.GOOS + "/" + runtime.GOARCH} {
		if !strings.Contains(out, want) {
			t.Errorf("version output %q lacks %q", out, want)
		}
	}
	if code, _, _ := runValidateCLI(t, "", nil, "version", "extra"); code != exitUsage {
		t.Errorf("version with an argument: exit %d, want %d", code, exitUsage)
	}
}

func TestRootHelp(t *testing.T) {
	code, out, _ := runValidateCLI(t, "", nil, "--help")
	if code != exitOK {
		t.Fatalf("--help: exit %d", code)
	}
	for _, cmd := range []string{"validate", "version", "agent"} {
		if !strings.Contains(out, "  "+cmd+" ") {
			t.Errorf("root --help does not list %q:\n%s", cmd, out)
		}
	}
}
