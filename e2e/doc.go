// Package e2e holds jobsync's end-to-end tests: against a real control plane
// (etcd, kube-apiserver and kube-controller-manager started once for the
// package by internal/kubetest) and real servers. It has no code of its own;
// the entry point is `go test ./e2e/` (benchmarks: `go test -run '^$' -bench . ./e2e/`).
package e2e
