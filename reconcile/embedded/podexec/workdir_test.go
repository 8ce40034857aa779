package podexec

import (
	"os"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// TestContainersOfOtherUsersEnterTheirWorkingDirectory: a container whose
// runAsUser differs from the pod's (and no fsGroup shares the pod's
// directory) still starts in a working directory it owns, mode 0700, and
// containers of different users get different directories.
func TestContainersOfOtherUsersEnterTheirWorkingDirectory(t *testing.T) {
	needRoot(t)
	const script = `echo "$(pwd) $(id -u) $(stat -c '%u %a' .) $HOME"`
	cases := []struct {
		name     string
		pod      *corev1.PodSecurityContext
		users    []*int64 // container runAsUser, nil for none
		wantUIDs []string
		sameDir  bool
	}{
		{name: "container runAsUser beside a default one", users: []*int64{ptr.To[int64](3456), nil},
			wantUIDs: []string{"3456", "65534"}},
		{name: "pod root, container not root", pod: &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](0)},
			users: []*int64{ptr.To[int64](3456)}, wantUIDs: []string{"3456"}, sameDir: true},
		{name: "pod user, every container another", pod: &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](1234)},
			users: []*int64{ptr.To[int64](3456), ptr.To[int64](3456)}, wantUIDs: []string{"3456", "3456"}, sameDir: true},
		{name: "same user everywhere", users: []*int64{nil, nil}, wantUIDs: []string{"65534", "65534"}, sameDir: true},
	}
	x := newExec(t, nil)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var cs []corev1.Container
			for j, u := range tc.users {
				c := sh("c"+strconv.Itoa(j), script)
				if u != nil {
					c.SecurityContext = &corev1.SecurityContext{RunAsUser: u}
				}
				cs = append(cs, c)
			}
			pod := shPod("workdir-"+strconv.Itoa(i), corev1.RestartPolicyNever, cs...)
			pod.Spec.SecurityContext = tc.pod
			st := wait(t, mustStart(t, x, pod))
			dirs := map[string]bool{}
			for j, cst := range st.ContainerStatuses {
				data, err := os.ReadFile(x.LogPath(pod.Namespace, pod.Name, cst.Name))
				if err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
				if term := cst.State.Terminated; term == nil || term.ExitCode != 0 {
					t.Fatalf("container %s: want exit 0, got %+v (log %q)", cst.Name, cst.State, data)
				}
				f := strings.Fields(string(data))
				if len(f) != 5 || f[1] != tc.wantUIDs[j] || f[2] != tc.wantUIDs[j] || f[3] != "700" || f[4] != f[0] {
					t.Fatalf("container %s: pwd uid owner mode HOME = %q, want uid and owner %s, mode 700, HOME = pwd", cst.Name, data, tc.wantUIDs[j])
				}
				if !strings.HasPrefix(f[0], x.podDir(pod)) {
					t.Errorf("container %s: working directory %s is not in the pod's %s", cst.Name, f[0], x.podDir(pod))
				}
				dirs[f[0]] = true
			}
			if tc.sameDir != (len(dirs) == 1) {
				t.Errorf("working directories %v: want shared = %v", dirs, tc.sameDir)
			}
		})
	}
}
