#!/usr/bin/env bash
# Runs the headless Neovim test of `quarry lsp`; exits non-zero when a check fails.
#
# Needs `nvim` (Debian package `neovim`, 0.7 or later). Builds the quarry binary unless
# QUARRY_BIN points at one.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

if ! command -v nvim >/dev/null; then
  echo "nvim not found; install it with: apt-get install -y neovim" >&2
  exit 2
fi

if [[ -z "${QUARRY_BIN:-}" ]]; then
  cargo build --quiet -p quarry --manifest-path "$root/Cargo.toml"
  target_dir="${CARGO_TARGET_DIR:-$root/target}"
  QUARRY_BIN="$target_dir/debug/quarry"
fi

# Work on a copy, so the edit the test makes never touches the checked-in file.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$here/failed_logons.kql" "$work/"

echo "$(nvim --version | head -n 1)"
QUARRY_BIN="$QUARRY_BIN" KQL_FILE="$work/failed_logons.kql" \
  timeout 60 nvim --headless --clean -n -c "luafile $here/lsp_test.lua"
echo "nvim LSP test passed"
