package e2e

import (
	"os"
	"testing"

	"github.com/jobsync/jobsync/internal/kubetest"
)

// env is the package's one control plane (no scheduler, no kubelet).
var env *kubetest.Env

func TestMain(m *testing.M) {
	kubetest.Main(m, os.LookupEnv, func(e *kubetest.Env) { env = e })
}
