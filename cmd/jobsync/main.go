// Command jobsync is a pull-based GitOps agent and validator for Kubernetes
// Jobs and CronJobs. This package holds flags and wiring only.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
