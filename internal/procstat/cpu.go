package procstat

import (
	"syscall"
	"time"
)

// CPUTime is the CPU time (user + system) this process has used so far
// (getrusage RUSAGE_SELF).
func CPUTime() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
