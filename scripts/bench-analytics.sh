#!/usr/bin/env bash
# Times Quarry's analytics and MSTICPy's on the same inputs and prints the speed ratios.
#
# Inputs: the MSTICPy sample files in tests/fixtures/analytics plus synthetic files generated
# with a fixed seed: an hourly series of SERIES_POINTS points and event logs of each size in
# EVENT_COUNTS. Both sides time the analysis only, not reading the CSV (best of REPEAT runs).
# MSTICPy's sessionizer loops over rows in Python (roughly 0.6 ms per event on a 2-core
# machine), so it runs only on event files of at most MSTICPY_MAX_EVENTS events.
#
# Environment: SERIES_POINTS (default 10000), EVENT_COUNTS (default "100000 1000000"),
# MSTICPY_MAX_EVENTS (default 100000), REPEAT (default 3), QUARRY_VENV (default
# $HOME/.cache/quarry-venv, created with msticpy and statsmodels when missing).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

series_points=${SERIES_POINTS:-10000}
read -r -a event_counts <<<"${EVENT_COUNTS:-100000 1000000}"
msticpy_max_events=${MSTICPY_MAX_EVENTS:-100000}
repeat=${REPEAT:-3}
venv=${QUARRY_VENV:-$HOME/.cache/quarry-venv}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/quarry-target}

if ! "$venv/bin/python" -c 'import msticpy, statsmodels' 2>/dev/null; then
    echo "==> creating $venv with msticpy and statsmodels" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet msticpy statsmodels
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "==> generating inputs in $work" >&2
"$venv/bin/python" tests/msticpy-compat/analytics_bench.py generate "$work" \
    --points "$series_points" --events "${event_counts[@]}"

echo "==> building the Quarry benchmark (release)" >&2
cargo build --quiet --release -p quarry-analytics --example analytics_bench
quarry_bench=$CARGO_TARGET_DIR/release/examples/analytics_bench

files=(tests/fixtures/analytics/TimeSeriesDemo.csv "$work/series_$series_points.csv"
    tests/fixtures/analytics/demo_exchange_data.csv tests/fixtures/analytics/processes_on_host.csv)
msticpy_files=("${files[@]}")
for count in "${event_counts[@]}"; do
    files+=("$work/events_$count.csv")
    if [ "$count" -le "$msticpy_max_events" ]; then
        msticpy_files+=("$work/events_$count.csv")
    fi
done

echo "==> timing Quarry" >&2
"$quarry_bench" --repeat "$repeat" "${files[@]}" >"$work/quarry.jsonl"
echo "==> timing MSTICPy" >&2
"$venv/bin/python" tests/msticpy-compat/analytics_bench.py run --repeat "$repeat" \
    "${msticpy_files[@]}" >"$work/msticpy.jsonl"

"$venv/bin/python" - "$work/quarry.jsonl" "$work/msticpy.jsonl" <<'PY'
import json
import sys

def load(path):
    with open(path, encoding="utf-8") as lines:
        return {row["case"]: row for row in map(json.loads, lines)}

quarry, msticpy = load(sys.argv[1]), load(sys.argv[2])
print(f"{'input':<28}{'rows':>10}{'quarry s':>12}{'msticpy s':>12}{'ratio':>9}")
for case, row in quarry.items():
    reference = msticpy.get(case)
    msticpy_text = f"{reference['seconds']:.4f}" if reference else "not run"
    ratio_text = f"{reference['seconds'] / row['seconds']:.0f}x" if reference else "-"
    print(f"{case:<28}{row['rows']:>10}{row['seconds']:>12.4f}{msticpy_text:>12}{ratio_text:>9}")
PY
