#!/bin/sh
# Regenerates src/ (parser.c, grammar.json, node-types.json, tree_sitter/)
# from grammar.js with the pinned tree-sitter-cli. Needs node on PATH.
#
# Install the CLI with:
#   cargo install tree-sitter-cli --version 0.27.1 --locked --root "$HOME/.cache/quarry-tools"
# or point QUARRY_TREE_SITTER at another tree-sitter 0.27.1 binary.
set -eu

cd "$(dirname "$0")"
TREE_SITTER="${QUARRY_TREE_SITTER:-$HOME/.cache/quarry-tools/bin/tree-sitter}"

if [ ! -x "$TREE_SITTER" ]; then
    echo "tree-sitter CLI not found at $TREE_SITTER" >&2
    echo "install it: cargo install tree-sitter-cli --version 0.27.1 --locked --root \"\$HOME/.cache/quarry-tools\"" >&2
    exit 1
fi

version="$("$TREE_SITTER" --version | awk '{print $2}')"
if [ "$version" != "0.27.1" ]; then
    echo "tree-sitter CLI at $TREE_SITTER is version $version, expected 0.27.1" >&2
    exit 1
fi

"$TREE_SITTER" generate "$@"
