// Package kubetest runs a real Kubernetes control plane on loopback for
// end-to-end tests: etcd, kube-apiserver and kube-controller-manager (job,
// cronjob, ttl-after-finished, garbage-collector, serviceaccount and namespace
// controllers), each in its own process group, with temporary directories and
// free ports. There is no scheduler and no kubelet: pods stay Pending unless a
// test finishes them itself with Env.FinishPod, the way a kubelet would.
//
// The entry point is Main, called once from a test package's TestMain:
//
//	var env *kubetest.Env
//
//	func TestMain(m *testing.M) { kubetest.Main(m, os.LookupEnv, func(e *kubetest.Env) { env = e }) }
//
// Main finds the binaries (JOBSYNC_CONTROLPLANE_BIN from the lookup TestMain
// passes, else the cache filled by
// hack/build-controlplane.sh), starts everything with Start, waits until the
// API server is ready and the default ServiceAccount exists, runs the tests
// and tears everything down. Start and Env.Stop can be used directly too.
package kubetest
