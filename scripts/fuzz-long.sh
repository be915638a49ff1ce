#!/usr/bin/env bash
# The long fuzz run: every fuzz target for QUARRY_FUZZ_SECONDS seconds (default 3600, so
# about twelve hours in total). Pass target names to run only those. See scripts/fuzz-run.sh.
set -euo pipefail
exec "$(dirname "$0")/fuzz-run.sh" "${QUARRY_FUZZ_SECONDS:-3600}" "$@"
