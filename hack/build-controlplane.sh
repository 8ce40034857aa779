#!/usr/bin/env bash
# Builds kube-apiserver and kube-controller-manager from the Go module proxy into a
# cache keyed by version, and prints the directory. A second call is instant.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
version=$(awk '/k8s.io\/kubernetes v/ {print $2; exit}' "$here/e2e/controlplane/go.mod")
cache=${JOBSYNC_CONTROLPLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jobsync/controlplane}
out="$cache/$version"
if [[ -x "$out/kube-apiserver" && -x "$out/kube-controller-manager" ]]; then
  echo "$out"; exit 0
fi
mkdir -p "$out.tmp"
cd "$here/e2e/controlplane"
GOFLAGS=-mod=mod go mod tidy >&2
for cmd in kube-apiserver kube-controller-manager; do
  echo "building $cmd $version (cold: ~8 minutes on 2 cores)" >&2
  GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags=-s -o "$out.tmp/$cmd" "k8s.io/kubernetes/cmd/$cmd"
done
rm -rf "$out"; mv "$out.tmp" "$out"
echo "$out"
