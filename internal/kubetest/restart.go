package kubetest

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
)

// apiServerName is the proc name of kube-apiserver.
const apiServerName = "kube-apiserver"

// apiServer returns kube-apiserver's entry in e.procs.
func (e *Env) apiServer() (int, *proc, error) {
	for i, p := range e.procs {
		if p.name == apiServerName {
			return i, p, nil
		}
	}
	return 0, nil, errors.New("kubetest: no kube-apiserver in this environment")
}

// KillAPIServer kills kube-apiserver outright (SIGKILL to its process
// group), as a crash or an OOM kill would: requests under way fail, new ones
// are refused. etcd and kube-controller-manager keep running. It returns once
// the process is reaped; RestartAPIServer brings it back.
func (e *Env) KillAPIServer() error {
	e.mu.Lock()
	_, p, err := e.apiServer()
	e.mu.Unlock()
	if err != nil {
		return err
	}
	if err := syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kubetest: kill kube-apiserver: %w", err)
	}
	<-p.done
	return nil
}

// RestartAPIServer starts kube-apiserver again with the flags it had (same
// port, certificates, credentials and etcd, so Config and Kubeconfig stay
// valid) and waits until /readyz answers ok, at most timeout. It kills a
// kube-apiserver that still runs first.
func (e *Env) RestartAPIServer(ctx context.Context, timeout time.Duration) error {
	if err := e.KillAPIServer(); err != nil {
		return err
	}
	e.mu.Lock()
	i, old, err := e.apiServer()
	if err != nil {
		e.mu.Unlock()
		return err
	}
	p, err := startProc(old.name, old.cmd.Path, old.cmd.Args[1:], old.logPath)
	if err == nil {
		e.procs[i] = p
	}
	e.mu.Unlock()
	if err != nil {
		return fmt.Errorf("kubetest: restart: %w", err)
	}
	hc, err := rest.HTTPClientFor(e.Config)
	if err != nil {
		return fmt.Errorf("kubetest: restart: client: %w", err)
	}
	if err := awaitReadyz(ctx, timeout, p, hc, e.Config.Host); err != nil {
		return fmt.Errorf("kubetest: restart: kube-apiserver /readyz: %w", err)
	}
	return nil
}
