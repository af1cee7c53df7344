#!/usr/bin/env bash
# Builds the real control plane the integration tests run against — etcd, kube-apiserver,
# kube-controller-manager — and helm, from the pinned Go modules under tools/. Binaries go to a
# cache outside the repository, keyed by versions, and are reused when present.
#
# Prints the bin directory on its last line. Usage: scripts/testbin.sh [--print-dir]
set -euo pipefail

K8S_VERSION=1.36.3
K8S_MINOR=36
ETCD_VERSION=3.6.16
HELM_VERSION=3.22.0

root=$(cd "$(dirname "$0")/.." && pwd)
cache=${IDGAP_TESTBIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/idgap-testbin}
bin="$cache/k8s-$K8S_VERSION-etcd-$ETCD_VERSION-helm-$HELM_VERSION"

if [ "${1:-}" = "--print-dir" ]; then
  echo "$bin"
  exit 0
fi

export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
mkdir -p "$bin"

build() { # name, module dir, go build args...
  local name=$1 dir=$2
  shift 2
  if [ -x "$bin/$name" ]; then
    return 0
  fi
  echo "testbin: building $name (cold builds take minutes; cached in $bin)" >&2
  local start=$SECONDS
  (cd "$root/tools/$dir" && go build -trimpath "$@")
  echo "testbin: built $name in $((SECONDS - start))s" >&2
}

build etcd etcd -ldflags "-s -w" -o "$bin/etcd" go.etcd.io/etcd/server/v3
build helm helm -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION" \
  -o "$bin/helm" helm.sh/helm/v3/cmd/helm
stamp="-s -w -X k8s.io/component-base/version.gitVersion=v$K8S_VERSION \
 -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$K8S_MINOR \
 -X k8s.io/client-go/pkg/version.gitVersion=v$K8S_VERSION"
build kube-apiserver k8s -ldflags "$stamp" -o "$bin/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
build kube-controller-manager k8s -ldflags "$stamp" -o "$bin/kube-controller-manager" \
  k8s.io/kubernetes/cmd/kube-controller-manager

"$bin/kube-apiserver" --version >&2
echo "$bin"
