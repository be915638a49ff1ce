#!/usr/bin/env python3
"""Measure `quarry lsp` cold start: process spawn to the first publishDiagnostics.

Each run starts a fresh server, sends initialize, initialized and didOpen for one document, and
records the time until the initialize response and until diagnostics for the document arrive.
Prints the median, minimum and maximum over the runs for a small and a 5,000-line document.

Usage: scripts/bench_lsp_cold_start.py [--quarry PATH] [--runs N]
"""

import argparse
import json
import os
import statistics
import subprocess
import time

SMALL = "// Failed logons\nSecurityEvent\n| where EventID == 4625\n| summarize n = count() by Account\n"
BLOCK = (
    "SecurityEvent\n"
    "| where TimeGenerated > ago(1d) and EventID == 4625\n"
    "| summarize n = count(), hosts = dcount(Computer) by Account, bin(TimeGenerated, 1h)\n"
    "| where n > 10\n"
    "\n"
)
LARGE = BLOCK * 1000  # 5,000 lines


def send(stdin, message):
    body = json.dumps(message).encode()
    stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
    stdin.flush()


def receive(stdout):
    length = None
    while True:
        line = stdout.readline()
        if not line:
            raise RuntimeError("the server closed its stdout")
        line = line.strip()
        if not line:
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return json.loads(stdout.read(length))


def run_once(quarry, text):
    uri = "file:///bench.kql"
    started = time.perf_counter()
    server = subprocess.Popen(
        [quarry, "lsp"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "QUARRY_LOG": "warn"},
    )
    try:
        send(server.stdin, {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                            "params": {"processId": None, "rootUri": None, "capabilities": {}}})
        while receive(server.stdout).get("id") != 1:
            pass
        initialized = time.perf_counter()

        send(server.stdin, {"jsonrpc": "2.0", "method": "initialized", "params": {}})
        send(server.stdin, {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
            "textDocument": {"uri": uri, "languageId": "kql", "version": 1, "text": text}}})
        while True:
            message = receive(server.stdout)
            if message.get("method") == "textDocument/publishDiagnostics" and message["params"]["uri"] == uri:
                break
        diagnosed = time.perf_counter()

        send(server.stdin, {"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
        while receive(server.stdout).get("id") != 2:
            pass
        send(server.stdin, {"jsonrpc": "2.0", "method": "exit"})
        server.wait(timeout=10)
    finally:
        if server.poll() is None:
            server.kill()
    return (initialized - started) * 1000, (diagnosed - started) * 1000


def summary(values):
    return "median %7.1f ms   min %7.1f ms   max %7.1f ms" % (
        statistics.median(values), min(values), max(values))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "quarry")
    parser.add_argument("--quarry", default=default, help="path of the quarry binary (default: %(default)s)")
    parser.add_argument("--runs", type=int, default=20, help="runs per document (default: %(default)s)")
    args = parser.parse_args()

    for name, text in [("small (4 lines)", SMALL), ("large (5,000 lines)", LARGE)]:
        results = [run_once(args.quarry, text) for _ in range(args.runs)]
        print(name)
        print("  spawn to initialize response:   " + summary([r[0] for r in results]))
        print("  spawn to first diagnostics:     " + summary([r[1] for r in results]))


if __name__ == "__main__":
    main()
