#!/usr/bin/env bash
# Times ten hunting queries in Quarry's local engine (release build) against the same queries
# as SQL in DuckDB, on the demo dataset scaled to ROWS rows of SecurityEvent in Parquet, and
# prints each median time, the ratio and the peak memory (see scripts/bench-engine.py).
#
# Environment: ROWS (default 10000000), REPEAT (default 3), ONLY (comma-separated query names),
# BENCH_DIR (default $HOME/.cache/quarry-bench; the generated Parquet files are kept there).
# Needs python3 with duckdb (`python3 -m pip install duckdb`).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/quarry-target}
bench_dir=${BENCH_DIR:-$HOME/.cache/quarry-bench}

python3 -c 'import duckdb' 2>/dev/null || python3 -m pip install --quiet duckdb

echo "==> building quarry (release)" >&2
cargo build --quiet --release --locked -p quarry

exec python3 scripts/bench-engine.py "$CARGO_TARGET_DIR/release/quarry" "$bench_dir" \
    --rows "${ROWS:-10000000}" --repeat "${REPEAT:-3}" --only "${ONLY:-}"
