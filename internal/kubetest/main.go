package kubetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Environment variables read by Main (test processes only).
const (
	// EnvBinDir names a directory holding kube-apiserver and
	// kube-controller-manager; when unset, Main runs hack/build-controlplane.sh.
	EnvBinDir = "JOBSYNC_CONTROLPLANE_BIN"
	// EnvEtcd names the etcd binary (default: etcd in PATH).
	EnvEtcd = "JOBSYNC_ETCD"
	// EnvKeep, when "1", keeps the control plane's directory (logs) after the run.
	EnvKeep = "JOBSYNC_KUBETEST_KEEP"
)

// Main starts one control plane for the whole test package, calls setup with
// it, runs the tests and stops everything before exiting. Call it from
// TestMain. It stops the control plane on SIGINT/SIGTERM too; if the test
// binary is killed outright, the components die with it (parent-death signal).
func Main(m *testing.M, setup func(*Env)) {
	os.Exit(run(m, setup))
}

func run(m *testing.M, setup func(*Env)) int {
	opts := DefaultOptions()
	bin, err := BinDir()
	if err != nil {
		fmt.Fprintf(os.Stderr, "kubetest: %v\n", err)
		return 1
	}
	opts.BinDir = bin
	if v := os.Getenv(EnvEtcd); v != "" {
		opts.Etcd = v
	}
	opts.KeepDir = os.Getenv(EnvKeep) == "1"
	ctx, cancel := context.WithTimeout(context.Background(), 3*opts.StartTimeout)
	env, err := Start(ctx, opts)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%v\n", err)
		return 1
	}
	defer env.Stop()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sigs
		env.Stop()
		fmt.Fprintf(os.Stderr, "kubetest: %v: control plane stopped\n", s)
		os.Exit(1)
	}()
	if setup != nil {
		setup(env)
	}
	return m.Run()
}

// BinDir returns the directory of the control-plane binaries: $JOBSYNC_CONTROLPLANE_BIN,
// else what hack/build-controlplane.sh prints (it builds once and caches by
// version; concurrent test packages take turns through a lock file).
func BinDir() (string, error) {
	if v := os.Getenv(EnvBinDir); v != "" {
		return v, nil
	}
	script, err := findScript()
	if err != nil {
		return "", err
	}
	unlock, err := lockFile(filepath.Join(os.TempDir(), "jobsync-build-controlplane.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	var out bytes.Buffer
	cmd := exec.Command("bash", script)
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s failed after %s: %w", script, time.Since(start).Round(time.Second), err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	dir := strings.TrimSpace(lines[len(lines)-1])
	if _, err := os.Stat(filepath.Join(dir, "kube-apiserver")); err != nil {
		return "", fmt.Errorf("%s printed %q, which has no kube-apiserver: %w", script, dir, err)
	}
	return dir, nil
}

// findScript walks up from the working directory to the repository root.
func findScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		p := filepath.Join(dir, "hack", "build-controlplane.sh")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("hack/build-controlplane.sh not found above the working directory; set " + EnvBinDir)
		}
		dir = parent
	}
}

func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
