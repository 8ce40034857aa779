package podexec

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strconv"
	"syscall"
	"time"
)

// MarkerEnv is the variable that marks a container's processes when there
// are no cgroups: the processes that left its process group (setsid, a
// double fork) are found by it in /proc/<pid>/environ when the container
// ends. A process that replaced its whole environment (env -i) or changed
// its user (a setuid program) escapes.
const MarkerEnv = "JOBSYNC_CONTAINER_ID"

// newMarker is a random value for MarkerEnv.
func newMarker() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// signalMarked sends sig to every process of user uid whose environment
// holds MarkerEnv=marker, and reports how many it found. Only the
// environment of the user's processes is read (the owner of /proc/<pid> is
// the process's user): reading one costs far more than a stat.
func signalMarked(marker string, uid uint32, sig syscall.Signal) int {
	want := []byte(MarkerEnv + "=" + marker + "\x00")
	self := os.Getpid()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		var st syscall.Stat_t
		if syscall.Stat("/proc/"+e.Name(), &st) != nil || st.Uid != uid {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil || !(bytes.HasPrefix(env, want) || bytes.Contains(env, append([]byte{0}, want...))) {
			continue
		}
		if syscall.Kill(pid, sig) == nil {
			n++
		}
	}
	return n
}

// killMarked SIGKILLs the marked processes until none is left: they may
// fork while the scan runs, and a killed process shows its environment
// until it has exited (within milliseconds; a zombie shows none).
func killMarked(marker string, uid uint32) {
	for range 2000 {
		if signalMarked(marker, uid, syscall.SIGKILL) == 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
