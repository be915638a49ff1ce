#!/usr/bin/env bash
# Runs every Quarry test suite: Rust unit and end-to-end tests, the grammar's corpus tests,
# the VS Code extension's unit tests and the headless Neovim client test.
# Prerequisites (installed by .ci/run): Rust, Node.js 20+, tree-sitter-cli, python3 with pandas,
# Neovim. Set QUARRY_SKIP_NVIM=1 or QUARRY_SKIP_EXTENSION=1 to leave out a suite locally.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/quarry-target}
export QUARRY_TREE_SITTER=${QUARRY_TREE_SITTER:-$HOME/.cache/quarry-tools/bin/tree-sitter}

step() { printf '\n==> %s\n' "$*"; }

step "cargo test (workspace)"
cargo test --workspace --locked

step "tree-sitter corpus tests"
(cd grammars/tree-sitter-kql && "$QUARRY_TREE_SITTER" test)

if [ "${QUARRY_SKIP_EXTENSION:-0}" != 1 ]; then
    step "VS Code extension unit tests"
    (cd editors/vscode && npm ci --no-audit --no-fund && npm test)
fi

if [ "${QUARRY_SKIP_NVIM:-0}" != 1 ]; then
    step "Neovim client test"
    cargo build -p quarry --locked
    QUARRY_BIN="$CARGO_TARGET_DIR/debug/quarry" tests/nvim/run.sh
fi

step "all test suites passed"
