//go:build tools

// Package deps pins the libraries jobsync builds on, so that go.mod lists them
// before every package that uses them exists. It is never compiled.
package deps

import (
	_ "github.com/Masterminds/semver/v3"
	_ "github.com/ProtonMail/go-crypto/openpgp"
	_ "github.com/go-git/go-git/v5"
	_ "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/robfig/cron/v3"
	_ "github.com/spf13/cobra"
	_ "go.etcd.io/bbolt"
	_ "golang.org/x/crypto/ssh/knownhosts"
	_ "golang.org/x/term"
	_ "k8s.io/api/batch/v1"
	_ "k8s.io/apimachinery/pkg/util/validation/field"
	_ "k8s.io/client-go/discovery/cached/memory"
	_ "k8s.io/client-go/dynamic"
	_ "k8s.io/client-go/restmapper"
	_ "k8s.io/client-go/tools/clientcmd"
	_ "k8s.io/client-go/tools/leaderelection"
	_ "k8s.io/utils/ptr"
	_ "sigs.k8s.io/kustomize/api/krusty"
	_ "sigs.k8s.io/kustomize/kyaml/yaml"
	_ "sigs.k8s.io/yaml"
)
