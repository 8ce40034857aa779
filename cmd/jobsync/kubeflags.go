package main

import (
	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"
)

// kubeFlags select a cluster the way kubectl does; apply, diff and agent
// share them.
type kubeFlags struct {
	kubeconfig, context string
	qps                 float32
	burst               int
}

func (k *kubeFlags) register(c *cobra.Command) {
	fl := c.Flags()
	fl.StringVar(&k.kubeconfig, "kubeconfig", "", "kubeconfig file (default: in a pod the in-cluster config, else $KUBECONFIG, else ~/.kube/config)")
	fl.StringVar(&k.context, "context", "", "kubeconfig context to use (default: its current context)")
	fl.Float32Var(&k.qps, "kube-qps", 200, "API requests per second")
	fl.IntVar(&k.burst, "kube-burst", 400, "API request burst")
}

// kubeClientConfig loads kubeconfig files the way kubectl does: kubeconfig
// when given, else $KUBECONFIG, else ~/.kube/config; kubeContext and namespace,
// when given, override the file's. It returns the loading rules too.
func kubeClientConfig(kubeconfig, kubeContext, namespace string) (clientcmd.ClientConfig, *clientcmd.ClientConfigLoadingRules) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = kubeconfig
	over := &clientcmd.ConfigOverrides{CurrentContext: kubeContext}
	over.Context.Namespace = namespace
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, over), rules
}
