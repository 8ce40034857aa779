package podexec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestFindCgroup2(t *testing.T) {
	cases := []struct {
		name, mountinfo, mount, root, err string
	}{
		{"unified only", "30 23 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate\n", "/sys/fs/cgroup", "/", ""},
		{"hybrid", "31 23 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n40 23 0:35 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n",
			"/sys/fs/cgroup/unified", "/", ""},
		{"escaped, a namespace root", `50 23 0:40 /kubepods/pod\0401 /mnt/cg\040v2 rw - cgroup2 none rw` + "\n", "/mnt/cg v2", "/kubepods/pod 1", ""},
		{"none", "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n", "", "", "no cgroup2"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mount, root, err := findCgroup2(strings.NewReader(tc.mountinfo))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || mount != tc.mount || root != tc.root {
				t.Fatalf("findCgroup2 = %q, %q, %v; want %q, %q", mount, root, err, tc.mount, tc.root)
			}
		})
	}
}

// TestCgroupLimitFiles checks the values written for resources.limits in a
// directory standing in for a cgroup with every controller (the test hosts
// may not delegate them).
func TestCgroupLimitFiles(t *testing.T) {
	g := &cgroups{dir: t.TempDir(), ctrl: map[string]bool{"memory": true, "cpu": true, "pids": true}}
	c := corev1.Container{Resources: corev1.ResourceRequirements{Limits: corev1.ResourceList{
		corev1.ResourceMemory: resource.MustParse("64Mi"), corev1.ResourceCPU: resource.MustParse("250m")}}}
	cg, err := g.create(containerLimits(&c, 100))
	if err != nil {
		t.Fatal(err)
	}
	defer cg.fd.Close()
	want := map[string]string{"memory.max": "67108864", "memory.swap.max": "0", "cpu.max": "25000 100000", "pids.max": "100"}
	for file, v := range want {
		data, err := os.ReadFile(filepath.Join(cg.path, file))
		if err != nil || string(data) != v {
			t.Errorf("%s = %q, %v; want %q", file, data, err, v)
		}
	}
	if rl := containerLimits(&c, 100).rlimits(g.ctrl); len(rl) != 0 {
		t.Errorf("rlimits %v with every controller, want none", rl)
	}
	if rl := containerLimits(&c, 100).rlimits(nil); strings.Join(rl, " ") != "as=67108864 nproc=100" {
		t.Errorf("rlimits without controllers %v, want as and nproc", rl)
	}
}
