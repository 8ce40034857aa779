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
