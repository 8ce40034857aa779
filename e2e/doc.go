// Package e2e holds jobsync's end-to-end tests: against a real control plane
// (etcd, kube-apiserver and kube-controller-manager started once for the
// package by internal/kubetest) and real servers. TestConformance holds
// manifests.Check's verdicts on every fixture of manifests/testdata/cases
// against the API server's own (dryRun=All, fieldValidation=Strict);
// TestCLI* run the jobsync binary's diff and apply against the cluster; the
// benchmarks time 1,000 CronJobs against kubectl apply --server-side. It has
// no code of its own; the entry point is
// `JOBSYNC_CONTROLPLANE_BIN=$(hack/build-controlplane.sh) go test ./e2e/`
// (benchmarks: `go test -run '^$' -bench . -benchtime 1x ./e2e/`).
package e2e
