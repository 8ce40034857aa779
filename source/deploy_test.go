package source

import (
	"os"
	"strconv"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"
)

// agentIdleRSS is the agent's resident set between reconciles with the
// 5,000 objects deploy/ is sized for (docs/agent.md, Memory), rounded up.
const agentIdleRSS = 140 << 20

// TestDeployMemoryFitsMaxSize: deploy/deployment.yaml's memory limit holds
// the agent plus a fetch of the biggest blob --max-size lets through (1.5×
// it, docs/source.md, Memory), and its JOBSYNC_MAX_SIZE is the default.
func TestDeployMemoryFitsMaxSize(t *testing.T) {
	b, err := os.ReadFile("../deploy/deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var d appsv1.Deployment
	if err := yaml.Unmarshal(b, &d); err != nil {
		t.Fatal(err)
	}
	c := d.Spec.Template.Spec.Containers[0]
	maxSize := int64(-1)
	for _, e := range c.Env {
		if e.Name == "JOBSYNC_MAX_SIZE" {
			if maxSize, err = strconv.ParseInt(e.Value, 10, 64); err != nil {
				t.Fatalf("JOBSYNC_MAX_SIZE: %v", err)
			}
		}
	}
	if maxSize != DefaultMaxSize {
		t.Fatalf("deploy/: JOBSYNC_MAX_SIZE = %d, want the default %d stated", maxSize, DefaultMaxSize)
	}
	limit := c.Resources.Limits.Memory().Value()
	if need := int64(agentIdleRSS) + maxSize*3/2; limit < need {
		t.Fatalf("deploy/: memory limit %d bytes < %d (agent %d + 1.5 × --max-size %d)", limit, need, agentIdleRSS, maxSize)
	}
}
