#!/usr/bin/env bash
# Installs the Debian packages the tests start for real, when one is missing:
# git (git daemon, http-backend), sshd, etcd; chromium (headless, with a
# font) and tidy for the web view's page tests; make and CA certificates for
# the build itself. Used by `make test` and .ci/run. Installed packages are
# skipped, so a second call costs a few dpkg look-ups. Without root (or
# password-less sudo) it says what to install and fails.
set -euo pipefail
pkgs=(git openssh-server etcd-server chromium fonts-dejavu-core tidy make ca-certificates)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
((${#missing[@]} == 0)) && exit 0
if ! command -v apt-get >/dev/null; then
  echo "test-deps: not a Debian system: install ${missing[*]} (or their equivalents) by hand" >&2
  exit 1
fi
if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  echo "test-deps: the tests need these Debian packages: ${missing[*]}" >&2
  echo "test-deps: run: sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi
echo "test-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq </dev/null
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null >/dev/null
