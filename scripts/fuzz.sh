#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer via cargo-fuzz) of every parser of external data.
#
#   scripts/fuzz.sh                 every target, 60 s each
#   scripts/fuzz.sh 10              every target, 10 s each (smoke run)
#   scripts/fuzz.sh 600 okta_link_header sf_metadata_soap    only these targets
#
# Each target starts from its committed seeds (fuzz/seeds/<target>/) plus the working corpus
# of earlier runs (fuzz/corpus/<target>/, not committed). A crashing input is written to
# fuzz/artifacts/<target>/; the script then fails, naming the target and the file.
# Reproduce one: fuzz/target/<triple>/release/<target> <file>  (or: cargo fuzz run <target> <file>).
#
# Environment:
#   FUZZ_TOOLCHAIN  cargo toolchain to build with (default: nightly when installed, else
#                   stable with RUSTC_BOOTSTRAP=1, since cargo-fuzz needs unstable flags)
#   FUZZ_SANITIZER  none (default: parsers are safe Rust, so the fastest build) or address
set -euo pipefail

seconds="${1:-60}"
shift || true
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -lt 1 ]; then
    echo "usage: scripts/fuzz.sh [seconds-per-target] [target...]" >&2
    exit 2
fi

root="$(cd "$(dirname "$0")/.." && pwd)"
fuzz_dir="$root/fuzz"
cd "$fuzz_dir"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: cargo-fuzz is not installed; installing it (cargo install --locked cargo-fuzz)"
    cargo install --locked cargo-fuzz
fi

# cargo-fuzz passes unstable compiler flags: nightly when there is one, else stable told to
# accept them (RUSTC_BOOTSTRAP=1), which is all a CI machine without nightly needs.
toolchain="${FUZZ_TOOLCHAIN:-}"
if [ -z "$toolchain" ]; then
    if command -v rustup >/dev/null 2>&1 && rustup run nightly rustc --version >/dev/null 2>&1; then
        toolchain=nightly
    else
        toolchain=stable
    fi
fi
cargo_cmd=(cargo)
if command -v rustup >/dev/null 2>&1; then
    cargo_cmd=(cargo "+$toolchain")
fi
if [ "$toolchain" != nightly ]; then
    export RUSTC_BOOTSTRAP=1
fi
sanitizer="${FUZZ_SANITIZER:-none}"

all_targets=()
while IFS= read -r t; do all_targets+=("$t"); done < <("${cargo_cmd[@]}" fuzz list)
if [ "$#" -gt 0 ]; then
    targets=("$@")
    for t in "${targets[@]}"; do
        if ! printf '%s\n' "${all_targets[@]}" | grep -qx -- "$t"; then
            echo "fuzz.sh: no fuzz target named '$t'; the targets are: ${all_targets[*]}" >&2
            exit 2
        fi
    done
else
    targets=("${all_targets[@]}")
fi

echo "fuzz.sh: building ${#targets[@]} target(s) with toolchain $toolchain${RUSTC_BOOTSTRAP:+ (RUSTC_BOOTSTRAP=1)}, sanitizer $sanitizer"
build_start=$(date +%s)
# One target: build only it; several: build them all (one cargo invocation).
only=()
[ "${#targets[@]}" -eq 1 ] && only=("${targets[0]}")
"${cargo_cmd[@]}" fuzz build --sanitizer "$sanitizer" --debug-assertions "${only[@]}"
echo "fuzz.sh: built in $(( $(date +%s) - build_start )) s"

triple="$(rustc -vV | sed -n 's/^host: //p')"
bin_dir="${CARGO_TARGET_DIR:-$fuzz_dir/target}/$triple/release"
logs="${CARGO_TARGET_DIR:-$fuzz_dir/target}/fuzz-logs"
mkdir -p "$logs"

rows=()
failed=()
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t" "$fuzz_dir/artifacts/$t"
    seeds=()
    [ -d "seeds/$t" ] && seeds=("seeds/$t")
    log="$logs/$t.log"
    echo "fuzz.sh: $t for $seconds s"
    start=$(date +%s)
    set +e
    "$bin_dir/$t" "corpus/$t" "${seeds[@]}" \
        -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 \
        -artifact_prefix="$fuzz_dir/artifacts/$t/" -print_final_stats=1 >"$log" 2>&1
    status=$?
    set -e
    took=$(( $(date +%s) - start ))
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    [ -z "$runs" ] && runs="$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#')"
    if [ "$status" -eq 0 ]; then
        result=ok
    else
        artifact="$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)"
        result="CRASH ${artifact:-(no input written; see $log)}"
        failed+=("$t: $result")
        echo "fuzz.sh: target $t failed (exit $status); crashing input: ${artifact:-none written}; log: $log" >&2
        grep -m 1 -A 3 "panicked at" "$log" >&2 || tail -n 20 "$log" >&2
    fi
    rows+=("$(printf '%-24s %12s %8s  %s' "$t" "${runs:-?}" "$took" "$result")")
done

echo
printf '%-24s %12s %8s  %s\n' target runs seconds result
for row in "${rows[@]}"; do echo "$row"; done

if [ "${#failed[@]}" -gt 0 ]; then
    echo >&2
    echo "fuzz.sh: ${#failed[@]} target(s) crashed:" >&2
    printf '  %s\n' "${failed[@]}" >&2
    echo "Reproduce: $bin_dir/<target> <crashing input>" >&2
    exit 1
fi
