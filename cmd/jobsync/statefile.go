package main

import (
	"fmt"
)

// openStateFile opens a stopped agent's state read-only.
func openStateFile(stateDir string) (runtimeReader, func(), error) {
	return nil, nil, fmt.Errorf("reading the state of a stopped agent in %s is not available yet: start the agent", stateDir)
}
