// Package procstat reads a process's memory figures from /proc/<pid>/status
// (Linux), for the benchmarks that report resident memory. Entry point:
// Read (every kB field of a process, in bytes); MB for one field of this
// process; CPUTime for this process's CPU time (getrusage).
package procstat
