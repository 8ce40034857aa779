package procstat

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Read returns the status lines counted in kB (VmRSS, VmHWM, RssAnon,
// RssFile, ...) of process pid, in bytes; pid 0 is this process.
func Read(pid int) (map[string]int64, error) {
	path := "/proc/self/status"
	if pid != 0 {
		path = fmt.Sprintf("/proc/%d/status", pid)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || !strings.HasSuffix(v, " kB") {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(v, " kB")), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %w", path, line, err)
		}
		out[k] = n << 10
	}
	return out, nil
}

// MB returns one field of this process's status in MiB.
func MB(field string) (float64, error) {
	m, err := Read(0)
	if err != nil {
		return 0, err
	}
	n, ok := m[field]
	if !ok {
		return 0, fmt.Errorf("/proc/self/status: no %s", field)
	}
	return float64(n) / (1 << 20), nil
}
