#!/usr/bin/env python3
"""Measure the memory of `quarry lsp` with many large documents open.

Starts one server and opens N documents of 5,000 lines each. Every document has its own column
names and string values, so no two are identical. After diagnostics for all of them arrive, the
script sends a hover and a completion request to each document, then reads VmRSS and VmHWM (peak
resident set) from /proc/PID/status. Linux only.

Then it measures latency on the first document, which has been idle since the others opened:
the first hover and the first completion there, which parse it again when the server dropped its
parse, and then hover and completion right after each of a series of one-character edits, with
their p50, p99 and maximum.

The client declares snippet support and lazy resolution of completion documentation, as VS Code
does; --inline-documentation leaves the latter out, so completion lists carry all documentation.

Usage: scripts/bench-lsp-memory.py [--quarry PATH] [--documents N] [--blocks N] [--edits N]
"""

import argparse
import json
import os
import subprocess
import sys
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
    return receive_timed(stdout)[0]


def receive_timed(stdout):
    """Reads one message and returns it with the perf_counter time at which its body was read,
    before the JSON parse."""
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
    body = stdout.read(length)
    read = time.perf_counter()
    return json.loads(body), read


def memory_kib(pid):
    values = {}
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    return values


def wait_for_response(stdout, request_id):
    """Reads messages until the response to `request_id` and returns it with the time at which
    it was read. Notifications and requests from the server are skipped."""
    while True:
        message, read = receive_timed(stdout)
        if message.get("id") == request_id and "method" not in message:
            if "error" in message:
                raise RuntimeError("request %d failed: %s" % (request_id, message["error"]))
            return message, read


def timed_request(server, request_id, method, uri, position):
    """Sends one request and returns the milliseconds until its response has been read.

    The time stops before the client parses the response's JSON, which for a completion list
    of about 600 items (320 KB) takes Python's json module longer than the server's work."""
    started = time.perf_counter()
    send(server.stdin, {"jsonrpc": "2.0", "id": request_id, "method": method, "params": {
        "textDocument": {"uri": uri}, "position": position}})
    _, read = wait_for_response(server.stdout, request_id)
    return (read - started) * 1000


def percentile(values, fraction):
    """Returns the nearest-rank percentile of `values`."""
    ordered = sorted(values)
    rank = max(1, int(-(-fraction * len(ordered) // 1)))
    return ordered[rank - 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "quarry")
    parser.add_argument("--quarry", default=default, help="path of the quarry binary (default: %(default)s)")
    parser.add_argument("--documents", type=int, default=50, help="documents to open (default: %(default)s)")
    parser.add_argument("--blocks", type=int, default=1000,
                        help="5-line query blocks per document (default: %(default)s, 5,000 lines)")
    parser.add_argument("--edits", type=int, default=200,
                        help="one-character edits in the latency run (default: %(default)s)")
    parser.add_argument("--edit-interval", type=float, default=20,
                        help="milliseconds between edits, as in typing (default: %(default)s)")
    parser.add_argument("--inline-documentation", action="store_true",
                        help="do not declare lazy resolution of completion documentation")
    args = parser.parse_args()
    if args.documents < 1 or args.blocks < 2 or args.edits < 1:
        sys.exit("--documents and --edits must be at least 1 and --blocks at least 2")

    completion_item = {"snippetSupport": True}
    if not args.inline_documentation:
        completion_item["resolveSupport"] = {"properties": ["documentation", "detail"]}
    capabilities = {"textDocument": {"completion": {"completionItem": completion_item}}}

    server = subprocess.Popen(
        [args.quarry, "lsp"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "QUARRY_LOG": "warn"},
    )
    try:
        send(server.stdin, {"jsonrpc": "2.0", "id": 1, "method": "initialize",
                            "params": {"processId": None, "rootUri": None, "capabilities": capabilities}})
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

        # The first document has been idle since the others opened. The middle block's `where`
        # line gets the edits: characters typed at the end of its string literal, so the text
        # stays valid and the server reparses incrementally.
        uri = uris[0]
        middle = args.blocks // 2
        where_line = middle * 5 + 1
        summarize_line = middle * 5 + 2
        block_text = block(middle)
        summarize_text = block_text.split("\n")[2]
        hover_position = {"line": summarize_line, "character": summarize_text.index("by Account") + 3}
        completion_position = {"line": where_line, "character": len("| where ")}
        request_id += 1
        first_hover = timed_request(server, request_id, "textDocument/hover", uri, hover_position)
        request_id += 1
        second_uri = uris[1] if len(uris) > 1 else uris[0]
        first_completion = timed_request(server, request_id, "textDocument/completion", second_uri,
                                         completion_position)

        edit_character = block_text.split("\n")[1].rindex('"')
        latencies = {"textDocument/hover": [], "textDocument/completion": []}
        for version in range(2, args.edits + 2):
            send(server.stdin, {"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"range": {
                    "start": {"line": where_line, "character": edit_character},
                    "end": {"line": where_line, "character": edit_character}}, "text": "x"}]}})
            edit_character += 1
            method = "textDocument/hover" if version % 2 == 0 else "textDocument/completion"
            position = hover_position if version % 2 == 0 else completion_position
            request_id += 1
            latencies[method].append(timed_request(server, request_id, method, uri, position))
            time.sleep(args.edit_interval / 1000)
        after_edits = memory_kib(server.pid)

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
    print("after the edit run:       VmRSS %7.1f MiB   VmHWM (peak) %7.1f MiB" % (
        after_edits["VmRSS"] / 1024, after_edits["VmHWM"] / 1024))
    print("first hover on the idle first document:       %6.1f ms" % first_hover)
    print("first completion on the idle second document: %6.1f ms" % first_completion)
    print("during %d edits, %.0f ms apart:" % (args.edits, args.edit_interval))
    for method, values in latencies.items():
        print("  %-24s n=%3d  p50 %6.2f ms  p99 %6.2f ms  max %6.2f ms" % (
            method, len(values), percentile(values, 0.5), percentile(values, 0.99), max(values)))


if __name__ == "__main__":
    main()
