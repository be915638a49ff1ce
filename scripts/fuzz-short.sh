#!/usr/bin/env bash
# The short fuzz run: every fuzz target for QUARRY_FUZZ_SECONDS seconds (default 30), so about
# six minutes in total plus the sanitizer build. See scripts/fuzz-run.sh.
set -euo pipefail
exec "$(dirname "$0")/fuzz-run.sh" "${QUARRY_FUZZ_SECONDS:-30}" "$@"
