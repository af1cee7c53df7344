#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it: build the real control plane (etcd,
# kube-apiserver, kube-controller-manager, helm — from pinned Go modules, cached outside the
# repository; ~25 min cold on 2 cores, seconds when cached), then every test of every crate.
set -euo pipefail
cd "$(dirname "$0")/.."

IDGAP_TESTBIN=$(scripts/testbin.sh | tail -n 1)
export IDGAP_TESTBIN
echo "test.sh: control-plane binaries in $IDGAP_TESTBIN" >&2

cargo test --workspace --all-targets
