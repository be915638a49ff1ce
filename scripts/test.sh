#!/usr/bin/env bash
# Runs every Quarry test suite. The Rust unit and end-to-end tests include the grammar's corpus
# tests and the generated-parser drift check, through tree-sitter-cli. Then come the VS Code
# extension's unit tests, the headless Neovim client test and the extension's end-to-end test in
# code-server.
# Prerequisites (installed by .ci/run): Rust, Node.js 20+, tree-sitter-cli, python3 with pandas,
# Neovim. The code-server test installs its own tools into $HOME/.cache/quarry-e2e on first use.
# Set QUARRY_SKIP_EXTENSION=1, QUARRY_SKIP_NVIM=1 or QUARRY_SKIP_VSCODE_E2E=1 to leave out a
# suite locally.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/quarry-target}
export QUARRY_TREE_SITTER=${QUARRY_TREE_SITTER:-$HOME/.cache/quarry-tools/bin/tree-sitter}

step() { printf '\n==> %s\n' "$*"; }

step "Kusto.Language for the differential tests"
(cd tests/kusto-language && npm ci --no-audit --no-fund --silent)

step "cargo test (workspace)"
cargo test --workspace --locked

if [ "${QUARRY_SKIP_EXTENSION:-0}" != 1 ]; then
    step "VS Code extension unit tests"
    (cd editors/vscode && npm ci --no-audit --no-fund && npm test)
fi

if [ "${QUARRY_SKIP_NVIM:-0}" != 1 ]; then
    step "Neovim client test"
    cargo build -p quarry --locked
    QUARRY_BIN="$CARGO_TARGET_DIR/debug/quarry" tests/nvim/run.sh
fi

if [ "${QUARRY_SKIP_VSCODE_E2E:-0}" != 1 ]; then
    step "VS Code extension end-to-end test (code-server)"
    cargo build -p quarry --locked
    QUARRY_BIN="$CARGO_TARGET_DIR/debug/quarry" tests/vscode-e2e/run.sh
fi

step "all test suites passed"
