#!/usr/bin/env bash
# Runs every benchmark in release mode and prints its figures. Not part of the test suite:
# benchmarks measure, tests assert. Results and the machine they came from are recorded in
# docs/benchmarks.md.
#
#   scripts/bench.sh            # all of them
#   scripts/bench.sh scan       # one: scan | operator | salesforce | idp | detect
# The operator benchmark needs the test control plane (scripts/testbin.sh).
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
# The same with a 25 ms round trip per request, as a real API has.
(export IDGAP_BENCH_LATENCY_MS=25 && run scan --example bench_scan)
if [ "$only" = all ] || [ "$only" = operator ]; then
  IDGAP_TESTBIN=$(scripts/testbin.sh | tail -n 1)
  export IDGAP_TESTBIN
fi
run operator --example bench_operator
run salesforce -p idgap-salesforce --example bench_sync
for provider in okta okta-dpop entra google jumpcloud onelogin; do
  run idp -p idgap-idp --example bench_directory -- "$provider" 200000
done
run detect -p idgap-detect --example bench_detect
