//go:build tools

// Package controlplane pins the control-plane commands built for the e2e tests,
// and kubectl for the side-by-side benchmarks.
package controlplane

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
