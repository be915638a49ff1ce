#!/usr/bin/env python3
"""Measure the memory of `quarry lsp` with many large documents open.

Starts one server and opens N documents of 5,000 lines each. Every document has its own column
names and string values, so no two are identical. After diagnostics for all of them arrive, the
script sends a hover and a completion request to each document, then reads VmRSS and VmHWM (peak
resident set) from /proc/PID/status. Linux only.

Usage: scripts/bench-lsp-memory.py [--quarry PATH] [--documents N] [--blocks N]
"""

import argparse
import json
import os
import subprocess
import time


def block(index):
    return (
        "SecurityEvent\n"
        "| where TimeGenerated > ago(1d) and EventID == 4625 and Account != \"user%d\"\n"
        "| summarize n%d = count(), hosts = dcount(Computer) by Account, bin(TimeGenerated, 1h)\n"
        "| where n%d > 10\n"
        "\n" % (index, index, index)
    )


def document(number, blocks):
    return "".join(block(number * blocks + i) for i in range(blocks))


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


def memory_kib(pid):
    values = {}
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    return values


def wait_for_response(stdout, request_id):
    while receive(stdout).get("id") != request_id:
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "quarry")
    parser.add_argument("--quarry", default=default, help="path of the quarry binary (default: %(default)s)")
    parser.add_argument("--documents", type=int, default=50, help="documents to open (default: %(default)s)")
    parser.add_argument("--blocks", type=int, default=1000,
                        help="5-line query blocks per document (default: %(default)s, 5,000 lines)")
    args = parser.parse_args()

    server = subprocess.Popen(
        [args.quarry, "lsp"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "QUARRY_LOG": "warn"},
    )
    try:
        send(server.stdin, {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                            "params": {"processId": None, "rootUri": None, "capabilities": {}}})
        wait_for_response(server.stdout, 1)
        send(server.stdin, {"jsonrpc": "2.0", "method": "initialized", "params": {}})
        idle = memory_kib(server.pid)

        started = time.perf_counter()
        uris = ["file:///bench/doc%03d.kql" % n for n in range(args.documents)]
        for number, uri in enumerate(uris):
            send(server.stdin, {"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {
                "textDocument": {"uri": uri, "languageId": "kql", "version": 1,
                                 "text": document(number, args.blocks)}}})
        pending = set(uris)
        while pending:
            message = receive(server.stdout)
            if message.get("method") == "textDocument/publishDiagnostics":
                pending.discard(message["params"]["uri"])
        opened = time.perf_counter()
        after_open = memory_kib(server.pid)

        request_id = 10
        for uri in uris:
            position = {"line": 2, "character": 40}
            for method in ("textDocument/hover", "textDocument/completion"):
                request_id += 1
                send(server.stdin, {"jsonrpc": "2.0", "id": request_id, "method": method, "params": {
                    "textDocument": {"uri": uri}, "position": position}})
                wait_for_response(server.stdout, request_id)
        after_requests = memory_kib(server.pid)

        send(server.stdin, {"jsonrpc": "2.0", "id": 2, "method": "shutdown"})
        wait_for_response(server.stdout, 2)
        send(server.stdin, {"jsonrpc": "2.0", "method": "exit"})
        server.wait(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()

    lines = args.blocks * 5
    print("binary: %s" % args.quarry)
    print("documents: %d x %d lines (%d lines in all)" % (args.documents, lines, args.documents * lines))
    print("open to last diagnostics: %.1f s" % (opened - started))
    print("idle after initialize:    VmRSS %7.1f MiB" % (idle["VmRSS"] / 1024))
    print("all documents diagnosed:  VmRSS %7.1f MiB" % (after_open["VmRSS"] / 1024))
    print("after hover + completion: VmRSS %7.1f MiB   VmHWM (peak) %7.1f MiB" % (
        after_requests["VmRSS"] / 1024, after_requests["VmHWM"] / 1024))


if __name__ == "__main__":
    main()
