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

// Environment variables TestMain passes to Main (only test mains read the
// environment; Main is handed their lookup function).
const (
	// EnvBinDir names a directory holding kube-apiserver and
	// kube-controller-manager (and kubectl); when unset, Main runs
	// hack/build-controlplane.sh, which builds them once and caches them.
	EnvBinDir = "JOBSYNC_CONTROLPLANE_BIN"
	// EnvEtcd names the etcd binary (default: etcd in PATH).
	EnvEtcd = "JOBSYNC_ETCD"
	// EnvKeep, when "1", keeps the control plane's directory (logs) after the run.
	EnvKeep = "JOBSYNC_KUBETEST_KEEP"
)

// howToGet says how to provide the binaries; every setup failure ends with it.
const howToGet = "run hack/build-controlplane.sh (it builds kube-apiserver, kube-controller-manager and kubectl " +
	"from the Go module proxy once, ~8 minutes cold, and caches them by version) and set " + EnvBinDir +
	" to the directory it prints, or run `make test`, which does both"

// Main starts one control plane for the whole test package, calls setup with
// it, runs the tests and stops everything before exiting. Call it from
// TestMain with os.LookupEnv:
//
//	func TestMain(m *testing.M) { kubetest.Main(m, os.LookupEnv, func(e *kubetest.Env) { env = e }) }
//
// When the control plane cannot be started (binaries missing, etcd missing)
// the package fails with what to do; its tests are never skipped. It stops
// the control plane on SIGINT/SIGTERM too; if the test binary is killed
// outright, the components die with it (parent-death signal).
func Main(m *testing.M, lookupEnv func(string) (string, bool), setup func(*Env)) {
	os.Exit(run(m, lookupEnv, setup))
}

func run(m *testing.M, lookupEnv func(string) (string, bool), setup func(*Env)) int {
	opts, err := OptionsFromEnv(lookupEnv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: kubetest: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*opts.StartTimeout)
	env, err := Start(ctx, opts)
	cancel()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: %v\n", err)
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

// OptionsFromEnv returns DefaultOptions completed from the environment that
// lookupEnv reads (EnvBinDir, EnvEtcd, EnvKeep), with BinDir resolved by BinDir.
func OptionsFromEnv(lookupEnv func(string) (string, bool)) (Options, error) {
	opts := DefaultOptions()
	get := func(k string) string {
		if lookupEnv == nil {
			return ""
		}
		v, _ := lookupEnv(k)
		return v
	}
	bin, err := BinDir(get(EnvBinDir))
	if err != nil {
		return opts, err
	}
	opts.BinDir = bin
	if v := get(EnvEtcd); v != "" {
		opts.Etcd = v
	}
	if _, err := exec.LookPath(opts.Etcd); err != nil {
		return opts, fmt.Errorf("etcd %q: %w: install it (apt-get install -y etcd-server) or set %s to its path", opts.Etcd, err, EnvEtcd)
	}
	opts.KeepDir = get(EnvKeep) == "1"
	return opts, nil
}

// binaries are what BinDir must find.
var binaries = []string{"kube-apiserver", "kube-controller-manager"}

// BinDir returns the directory of the control-plane binaries: dir when it is
// not empty (it must hold them), else what hack/build-controlplane.sh prints
// (it builds once and caches by version; concurrent test packages take turns
// through a lock file). Errors say how to get the binaries.
func BinDir(dir string) (string, error) {
	if dir != "" {
		if err := checkBinaries(dir); err != nil {
			return "", fmt.Errorf("%s=%s: %w: %s", EnvBinDir, dir, err, howToGet)
		}
		return dir, nil
	}
	script, err := findScript()
	if err != nil {
		return "", fmt.Errorf("%s is not set and %w: %s", EnvBinDir, err, howToGet)
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
		return "", fmt.Errorf("%s is not set and %s failed after %s: %w: %s", EnvBinDir, script, time.Since(start).Round(time.Second), err, howToGet)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	got := strings.TrimSpace(lines[len(lines)-1])
	if err := checkBinaries(got); err != nil {
		return "", fmt.Errorf("%s printed %q: %w: %s", script, got, err, howToGet)
	}
	return got, nil
}

func checkBinaries(dir string) error {
	for _, b := range binaries {
		st, err := os.Stat(filepath.Join(dir, b))
		if err != nil {
			return fmt.Errorf("no %s there", b)
		}
		if st.IsDir() || st.Mode()&0o111 == 0 {
			return fmt.Errorf("%s there is not executable", b)
		}
	}
	return nil
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
			return "", errors.New("hack/build-controlplane.sh is not found above the working directory")
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
