#!/usr/bin/env bash
# Builds kube-apiserver, kube-controller-manager and kubectl (for the side-by-side
# benchmarks) from the Go module proxy into a cache keyed by version, and prints the
# directory. Only missing binaries are built; a second call is instant.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
# The version follows "k8s.io/kubernetes" on its require line (with or without "require").
version=$(awk '{for (i = 1; i < NF; i++) if ($i == "k8s.io/kubernetes" && $(i+1) ~ /^v[0-9]/) {print $(i+1); exit}}' "$here/e2e/controlplane/go.mod")
if [[ -z "$version" ]]; then echo "no k8s.io/kubernetes version in e2e/controlplane/go.mod" >&2; exit 1; fi
cache=${JOBSYNC_CONTROLPLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jobsync/controlplane}
out="$cache/$version"
cmds=(kube-apiserver kube-controller-manager kubectl)
missing=()
for cmd in "${cmds[@]}"; do
  [[ -x "$out/$cmd" ]] || missing+=("$cmd")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "$out"; exit 0
fi
mkdir -p "$out"
cd "$here/e2e/controlplane"
GOFLAGS=-mod=mod go mod tidy >&2
for cmd in "${missing[@]}"; do
  echo "building $cmd $version (cold: ~8 minutes on 2 cores)" >&2
  GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags=-s -o "$out/$cmd.tmp.$$" "k8s.io/kubernetes/cmd/$cmd"
  # A unique temporary name and an atomic rename: two builds at once (two
  # test binaries, or make test and a manual run) cannot trip over each other.
  mv -f "$out/$cmd.tmp.$$" "$out/$cmd"
done
echo "$out"
