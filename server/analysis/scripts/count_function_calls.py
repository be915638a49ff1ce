#!/usr/bin/env python3
"""Count calls of built-in KQL scalar and aggregate functions in a query corpus.

Usage: count_function_calls.py BUILTINS_JSON CORPUS_JSONL... > function-usage.tsv

BUILTINS_JSON has the shape of kql-builtins.json (keys "functions" and
"aggregates", each a list of objects with a "name"). Each CORPUS_JSONL line is
an object with a "query" string. The output is tab-separated with a header row:
name, kind, calls, sorted by calls (descending) and then by name.

A call is a built-in name followed by optional whitespace and "(", outside
string literals and comments, and not preceded by "." (a member access such as
Family.func() is a stored function, not a built-in).
"""

import json
import re
import sys
from collections import Counter

IDENTIFIER_CALL = re.compile(r"(?<![\w.])([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def strip_strings_and_comments(query: str) -> str:
    """Remove comments and replace each string literal with a space, keeping the rest."""
    out = []
    i = 0
    n = len(query)
    while i < n:
        c = query[i]
        if query.startswith("```", i):
            end = query.find("```", i + 3)
            i = n if end < 0 else end + 3
            out.append(" ")
        elif query.startswith("//", i):
            end = query.find("\n", i)
            i = n if end < 0 else end
        elif c in "'\"":
            # Verbatim strings (@'...') have no escapes, while regular strings use backslash escapes.
            verbatim = i > 0 and query[i - 1] == "@"
            j = i + 1
            while j < n and query[j] != c:
                if query[j] == "\\" and not verbatim:
                    j += 1
                elif query[j] == "\n":
                    break
                j += 1
            i = j + 1
            out.append(" ")
        else:
            out.append(c)
            i += 1
    return "".join(out)


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2

    with open(sys.argv[1], encoding="utf-8") as f:
        builtins = json.load(f)
    kinds = {}
    for entry in builtins["functions"]:
        kinds[entry["name"]] = "scalar"
    for entry in builtins["aggregates"]:
        # Three names (hll_merge, merge_tdigest, tdigest_merge) are both; they count as aggregates.
        kinds[entry["name"]] = "aggregate"

    calls = Counter()
    for path in sys.argv[2:]:
        with open(path, encoding="utf-8") as f:
            for line in f:
                query = json.loads(line)["query"]
                for match in IDENTIFIER_CALL.finditer(strip_strings_and_comments(query)):
                    name = match.group(1)
                    if name in kinds:
                        calls[name] += 1

    print("name\tkind\tcalls")
    for name, count in sorted(calls.items(), key=lambda item: (-item[1], item[0])):
        print(f"{name}\t{kinds[name]}\t{count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
