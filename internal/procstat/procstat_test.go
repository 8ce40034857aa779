package procstat

import (
	"os"
	"testing"
)

func TestRead(t *testing.T) {
	self, err := Read(0)
	if err != nil {
		t.Fatal(err)
	}
	byPid, err := Read(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"VmRSS", "VmHWM", "RssAnon", "RssFile"} {
		if self[k] <= 0 || byPid[k] <= 0 {
			t.Errorf("%s: %d (self), %d (by pid), want > 0", k, self[k], byPid[k])
		}
	}
	if mb, err := MB("VmRSS"); err != nil || mb <= 0 {
		t.Errorf("MB(VmRSS) = %v, %v", mb, err)
	}
	if _, err := MB("NoSuchField"); err == nil {
		t.Error("MB of a missing field: no error")
	}
	if _, err := Read(-1); err == nil {
		t.Error("Read of no process: no error")
	}
}

func TestCPUTime(t *testing.T) {
	before, err := CPUTime()
	if err != nil {
		t.Fatal(err)
	}
	x := 0
	for i := range 50_000_000 {
		x += i % 7
	}
	after, err := CPUTime()
	if err != nil || after <= before {
		t.Fatalf("CPU time %v → %v (%v) after a busy loop (%d)", before, after, err, x)
	}
}
