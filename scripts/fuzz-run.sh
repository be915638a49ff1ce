#!/usr/bin/env bash
# Builds the cargo-fuzz targets in fuzz/ with AddressSanitizer and overflow checks, then runs
# each target for SECONDS seconds, one after another. fuzz-short.sh (CI) and fuzz-long.sh call
# this script.
#
# Usage: scripts/fuzz-run.sh SECONDS [TARGET...]   (default: every target)
#
# The corpus each target grows is kept in $HOME/.cache/quarry-fuzz-corpus/<target>, so later
# runs start where earlier ones stopped. Seeds are rebuilt from the test fixtures on every run,
# and logs go to $HOME/.cache/quarry-fuzz-logs/<date>-<time>-<pid>/<target>.log.
# A crashing input is written to fuzz/artifacts/<target>/; replay it with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run --debug-assertions <target> fuzz/artifacts/<target>/<file>
# (run from fuzz/). The exit status is non-zero when any target crashed, hung or failed to build.
set -euo pipefail

seconds=${1:?usage: scripts/fuzz-run.sh SECONDS [TARGET...]}
shift

root=$(cd "$(dirname "$0")/.." && pwd)
cache=$HOME/.cache
tools=$cache/quarry-tools
export PATH="$tools/bin:$PATH"
export CARGO_TARGET_DIR=$cache/quarry-fuzz-target
# cargo-fuzz passes unstable flags (-Zsanitizer=address) to rustc. RUSTC_BOOTSTRAP=1 makes the
# stable toolchain accept them, so no nightly toolchain is needed.
export RUSTC_BOOTSTRAP=1

# The tree-sitter runtime and the KQL parser are C. With clang, they get the same coverage
# counters as the Rust code, so libFuzzer is guided through the parser's branches too. gcc cannot
# emit those counters, so without clang the C code runs uninstrumented.
if command -v clang >/dev/null 2>&1; then
    export CC=clang
    export CFLAGS="${CFLAGS:-} -fsanitize-coverage=inline-8bit-counters,pc-table,trace-cmp"
else
    echo "note: clang not found, so the C parser is fuzzed without coverage guidance" >&2
fi

cargo_fuzz_version=0.13.2
if ! cargo fuzz --version 2>/dev/null | grep -q " $cargo_fuzz_version"; then
    cargo install --locked --root "$tools" --version "$cargo_fuzz_version" cargo-fuzz
fi

cd "$root/fuzz"
if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

# Seeds and logs go to folders of this run, so that runs from other checkouts on the same
# machine, which share the corpus and the build, do not remove or overwrite them.
run_id=$(date +%Y%m%d-%H%M%S)-$$
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
python3 make_seeds.py "$seeds"

build_start=$(date +%s)
cargo fuzz build --debug-assertions
echo "==> fuzz targets built in $(( $(date +%s) - build_start )) s"

logs=$cache/quarry-fuzz-logs/$run_id
mkdir -p "$logs"
failed=()
for target in "${targets[@]}"; do
    corpus=$cache/quarry-fuzz-corpus/$target
    mkdir -p "$corpus" "$seeds/$target"
    log=$logs/$target.log
    echo "==> $target for $seconds s (log: $log)"
    # -timeout: an input that runs longer than 10 s counts as a hang.
    # -rss_limit_mb: an input that makes the process use more than 2 GiB fails.
    if cargo fuzz run --debug-assertions "$target" "$corpus" "$seeds/$target" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
        echo "    ${runs:-?} inputs run, corpus $(find "$corpus" -type f | wc -l) files"
    else
        failed+=("$target")
        grep -E "panicked at|ERROR: libFuzzer|SUMMARY" "$log" | head -5 || true
        echo "    FAILED: see $log and fuzz/artifacts/$target/"
    fi
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "==> fuzz targets that failed: ${failed[*]}"
    exit 1
fi
echo "==> every fuzz target ran without a crash"
