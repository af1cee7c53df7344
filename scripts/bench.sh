#!/usr/bin/env bash
# Runs every benchmark in release mode and prints its figures. Not part of the test suite:
# benchmarks measure, tests assert. Results and the machine they came from are recorded in
# docs/benchmarks.md.
#
#   scripts/bench.sh            # all of them
#   scripts/bench.sh scan       # one: scan | salesforce | idp | detect
set -euo pipefail
cd "$(dirname "$0")/.."

only=${1:-all}
run() { # name, cargo args...
  local name=$1
  shift
  if [ "$only" = all ] || [ "$only" = "$name" ]; then
    echo "== $name: cargo run --release $*"
    cargo run --quiet --release "$@"
    echo
  fi
}

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -m), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo
run scan --example bench_scan
run salesforce -p idgap-salesforce --example bench_sync
for provider in okta okta-dpop entra google jumpcloud onelogin; do
  run idp -p idgap-idp --example bench_directory -- "$provider" 200000
done
run detect -p idgap-detect --example bench_detect
