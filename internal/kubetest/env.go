package kubetest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// DefaultControllers are the kube-controller-manager controllers started: what
// Jobs and CronJobs need, plus garbage collection and namespace deletion.
var DefaultControllers = []string{
	"job-controller", "cronjob-controller", "ttl-after-finished-controller",
	"garbage-collector-controller", "serviceaccount-controller", "namespace-controller",
}

// Options configures Start.
type Options struct {
	// BinDir holds kube-apiserver and kube-controller-manager (required).
	BinDir string
	// Etcd is the etcd binary (a name looked up in PATH, or a path).
	Etcd string
	// Dir is where the temporary directory is made ("" = os.TempDir; /dev/shm
	// when it exists, so etcd's fsyncs cost nothing).
	Dir string
	// Controllers for kube-controller-manager.
	Controllers []string
	// StartTimeout bounds the wait for each component to become ready.
	StartTimeout time.Duration
	// ExtraAPIServerArgs are appended to kube-apiserver's flags.
	ExtraAPIServerArgs []string
	// KeepDir leaves the temporary directory (logs, data) after Stop.
	KeepDir bool
}

// DefaultOptions returns etcd from PATH, the default controllers and a 90 s
// start timeout; BinDir must still be set. Dir is /dev/shm when it has at
// least 1 GiB free (containers often give it 64 MiB), else the temp dir.
func DefaultOptions() Options {
	dir := ""
	var st syscall.Statfs_t
	if err := syscall.Statfs("/dev/shm", &st); err == nil && st.Bavail*uint64(st.Bsize) >= 1<<30 {
		dir = "/dev/shm"
	}
	return Options{Etcd: "etcd", Dir: dir, Controllers: DefaultControllers, StartTimeout: 90 * time.Second}
}

// Env is a running control plane.
type Env struct {
	// Config is an admin (system:masters) client config for the API server.
	Config *rest.Config
	// Kubeconfig is a kubeconfig file with the same credentials (context "kubetest").
	Kubeconfig string
	// Dir holds data, credentials and each component's log (etcd.log,
	// kube-apiserver.log, kube-controller-manager.log).
	Dir string
	// Client is a typed client built from Config.
	Client kubernetes.Interface
	// BinDir is where the control-plane binaries (and kubectl, when built) are.
	BinDir string

	procs    []*proc
	keep     bool
	stopOnce sync.Once
	mu       sync.Mutex
	cleanups []func()
}

// Cleanup registers f to run when the control plane stops (after its
// processes, before its directory is removed), e.g. to remove what a test
// package built for the whole run.
func (e *Env) Cleanup(f func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cleanups = append(e.cleanups, f)
}

// Start runs etcd, kube-apiserver and kube-controller-manager and returns when
// /readyz answers ok and the default namespace has its default ServiceAccount.
// On error everything started so far is stopped again.
func Start(ctx context.Context, opts Options) (*Env, error) {
	if opts.BinDir == "" {
		return nil, errors.New("kubetest: Options.BinDir is empty: run hack/build-controlplane.sh and pass the directory it prints")
	}
	dir, err := os.MkdirTemp(opts.Dir, "kubetest-")
	if err != nil {
		return nil, fmt.Errorf("kubetest: temp dir: %w", err)
	}
	e := &Env{Dir: dir, keep: opts.KeepDir, BinDir: opts.BinDir}
	if err := e.start(ctx, opts); err != nil {
		e.Stop()
		return nil, fmt.Errorf("kubetest: %w (logs in %s)", err, dir)
	}
	return e, nil
}

func (e *Env) start(ctx context.Context, opts Options) error {
	sec, err := writeSecrets(e.Dir)
	if err != nil {
		return err
	}
	ports, err := freePorts(3)
	if err != nil {
		return err
	}
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	if err := e.startEtcd(ctx, opts, etcdURL, ports[1]); err != nil {
		return err
	}
	host := fmt.Sprintf("https://127.0.0.1:%d", ports[2])
	if err := e.startAPIServer(ctx, opts, sec, etcdURL, ports[2], host); err != nil {
		return err
	}
	if err := e.startControllerManager(opts); err != nil {
		return err
	}
	return e.awaitDefaultServiceAccount(ctx, opts.StartTimeout)
}

func (e *Env) startEtcd(ctx context.Context, opts Options, url string, peerPort int) error {
	peer := fmt.Sprintf("http://127.0.0.1:%d", peerPort)
	p, err := startProc("etcd", opts.Etcd, []string{
		"--name=kubetest", "--data-dir=" + filepath.Join(e.Dir, "etcd"),
		"--listen-client-urls=" + url, "--advertise-client-urls=" + url,
		"--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=kubetest=" + peer, "--log-level=warn", "--logger=zap",
	}, filepath.Join(e.Dir, "etcd.log"))
	if err != nil {
		return err
	}
	e.procs = append(e.procs, p)
	return poll(ctx, opts.StartTimeout, p, func() bool {
		resp, err := http.Get(url + "/health")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

func (e *Env) startAPIServer(ctx context.Context, opts Options, sec files, etcdURL string, port int, host string) error {
	certDir := filepath.Join(e.Dir, "certs")
	args := []string{
		"--etcd-servers=" + etcdURL, "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
		fmt.Sprintf("--secure-port=%d", port), "--cert-dir=" + certDir,
		"--service-cluster-ip-range=10.0.0.0/24", "--endpoint-reconciler-type=none",
		"--authorization-mode=RBAC", "--token-auth-file=" + sec.tokenFile,
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + sec.saPub, "--service-account-signing-key-file=" + sec.saKey,
		"--profiling=false", "--v=1",
	}
	args = append(args, opts.ExtraAPIServerArgs...)
	p, err := startProc("kube-apiserver", filepath.Join(opts.BinDir, "kube-apiserver"), args, filepath.Join(e.Dir, "kube-apiserver.log"))
	if err != nil {
		return err
	}
	e.procs = append(e.procs, p)
	cfg := &rest.Config{Host: host, BearerToken: sec.token, QPS: 200, Burst: 400}
	cfg.TLSClientConfig = rest.TLSClientConfig{Insecure: true}
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return fmt.Errorf("kube-apiserver client: %w", err)
	}
	if err := awaitReadyz(ctx, opts.StartTimeout, p, hc, host); err != nil {
		return fmt.Errorf("kube-apiserver /readyz: %w", err)
	}
	// Trust the API server's self-signed serving certificate from here on.
	if ca, err := os.ReadFile(filepath.Join(certDir, "apiserver.crt")); err == nil {
		cfg.TLSClientConfig = rest.TLSClientConfig{CAData: ca}
		if err := checkTLS(cfg, host); err != nil {
			cfg.TLSClientConfig = rest.TLSClientConfig{Insecure: true}
		}
	}
	e.Config = cfg
	e.Kubeconfig = filepath.Join(e.Dir, "kubeconfig")
	if err := writeKubeconfig(e.Kubeconfig, cfg); err != nil {
		return err
	}
	e.Client, err = kubernetes.NewForConfig(cfg)
	return err
}

func checkTLS(cfg *rest.Config, host string) error {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return err
	}
	resp, err := hc.Get(host + "/readyz")
	if err != nil {
		return err
	}
	return resp.Body.Close()
}

func (e *Env) startControllerManager(opts Options) error {
	args := []string{
		"--kubeconfig=" + e.Kubeconfig, "--leader-elect=false", "--secure-port=0",
		"--controllers=" + strings.Join(opts.Controllers, ","), "--v=1",
	}
	p, err := startProc("kube-controller-manager", filepath.Join(opts.BinDir, "kube-controller-manager"), args, filepath.Join(e.Dir, "kube-controller-manager.log"))
	if err != nil {
		return err
	}
	e.procs = append(e.procs, p)
	return nil
}

// awaitDefaultServiceAccount waits for the serviceaccount controller: until
// it has run, pods are refused.
func (e *Env) awaitDefaultServiceAccount(ctx context.Context, timeout time.Duration) error {
	kcm := e.procs[len(e.procs)-1]
	err := poll(ctx, timeout, kcm, func() bool {
		_, err := e.Client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err == nil
	})
	if err != nil {
		return fmt.Errorf("ServiceAccount/default/default: %w", err)
	}
	return nil
}

// awaitReadyz polls the API server p at host until its /readyz answers ok
// (see poll).
func awaitReadyz(ctx context.Context, timeout time.Duration, p *proc, hc *http.Client, host string) error {
	return poll(ctx, timeout, p, func() bool {
		resp, err := hc.Get(host + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// poll calls ok every 100 ms until it returns true, the process exits, the
// timeout passes or ctx ends.
func poll(ctx context.Context, timeout time.Duration, p *proc, ok func() bool) error {
	deadline := time.Now().Add(timeout)
	for {
		if ok() {
			return nil
		}
		if gone, err := p.exited(); gone {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s; see %s", p.name, timeout, p.logPath)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func writeKubeconfig(path string, cfg *rest.Config) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["kubetest"] = &clientcmdapi.Cluster{
		Server: cfg.Host, CertificateAuthorityData: cfg.CAData, InsecureSkipTLSVerify: cfg.Insecure,
	}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken}
	kc.Contexts["kubetest"] = &clientcmdapi.Context{Cluster: "kubetest", AuthInfo: "admin", Namespace: "default"}
	kc.CurrentContext = "kubetest"
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	return nil
}

// Stop stops every component (SIGTERM to its process group, SIGKILL after
// 5 s) in reverse start order and removes the temporary directory unless
// KeepDir was set. It is safe to call more than once.
func (e *Env) Stop() {
	e.stopOnce.Do(func() {
		for i := len(e.procs) - 1; i >= 0; i-- {
			e.procs[i].stop(5 * time.Second)
		}
		e.mu.Lock()
		fs := e.cleanups
		e.mu.Unlock()
		for i := len(fs) - 1; i >= 0; i-- {
			fs[i]()
		}
		if !e.keep {
			os.RemoveAll(e.Dir)
		}
	})
}

// RESTConfig returns a copy of Config, safe to modify.
func (e *Env) RESTConfig() *rest.Config { return rest.CopyConfig(e.Config) }

// CreateNamespace creates a namespace named prefix-<n> that no other caller
// gets, and returns its name. Tests use one namespace each.
func (e *Env) CreateNamespace(ctx context.Context, prefix string) (string, error) {
	for i := 0; ; i++ {
		name := fmt.Sprintf("%s-%d", prefix, i)
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		_, err := e.Client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
		if err == nil {
			return name, nil
		}
		if !apierrors.IsAlreadyExists(err) || i > 1000 {
			return "", fmt.Errorf("Namespace/%s: %w", name, err)
		}
	}
}
