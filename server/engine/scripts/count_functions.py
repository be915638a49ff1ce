#!/usr/bin/env python3
"""Count the KQL function calls in a corpus of queries stored as JSON lines.

Each input line is a JSON object with a `query` field. The script removes comments and string
literals, then counts every `name(` that is not a literal keyword such as `datetime(` or
`dynamic(`, and not a property access such as `x.name(`. It prints a Markdown table of each
function with the number of queries that call it and the total number of calls, most used first.

Usage: count_functions.py CORPUS.jsonl [...] > function_counts.md
"""

import collections
import json
import re
import sys

# Names followed by `(` that are literals, operators or type names rather than function calls.
NOT_FUNCTIONS = {
    "datetime", "date", "timespan", "time", "dynamic", "bool", "boolean", "int", "long",
    "real", "double", "decimal", "string", "guid", "typeof", "datatable", "externaldata",
    "print", "range", "union", "join", "on", "by", "with", "and", "or", "not_", "in", "has_any",
    "has_all", "between", "materialize_", "view", "toscalar_", "let", "where", "project",
    "extend", "summarize", "evaluate", "invoke", "as", "kind", "hint", "withsource",
    "find", "search", "render", "lookup", "table_", "database", "cluster", "if", "return",
    "to", "declare", "fork", "inner", "innerunique", "leftouter", "rightouter", "fullouter",
    "leftanti", "rightanti", "leftsemi", "rightsemi", "anti", "leftantisemi", "rightantisemi",
}

STRING_OR_COMMENT = re.compile(
    r'//[^\n]*'                         # line comment
    r'|@"(?:[^"]|"")*"'                 # verbatim double-quoted string
    r"|@'(?:[^']|'')*'"                 # verbatim single-quoted string
    r'|"(?:\\.|[^"\\\n])*"'             # double-quoted string
    r"|'(?:\\.|[^'\\\n])*'"             # single-quoted string
    r"|```.*?```",                      # multi-line string
    re.DOTALL,
)
CALL = re.compile(r"(?<![\w.$])([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def calls_in(query):
    """Return the function names called in one query, in order of appearance."""
    stripped = STRING_OR_COMMENT.sub('""', query)
    names = []
    for match in CALL.finditer(stripped):
        name = match.group(1)
        if name.lower() in NOT_FUNCTIONS or name.startswith("$"):
            continue
        names.append(name)
    return names


def main(paths):
    queries = collections.Counter()
    calls = collections.Counter()
    total = 0
    for path in paths:
        with open(path, encoding="utf-8") as corpus:
            for line in corpus:
                if not line.strip():
                    continue
                total += 1
                names = calls_in(json.loads(line)["query"])
                calls.update(names)
                queries.update(set(names))
    print(f"Function calls in {total} queries ({', '.join(p.rsplit('/', 1)[-1] for p in paths)}).")
    print("Counted by server/engine/scripts/count_functions.py: a name followed by `(` outside")
    print("strings and comments. User-defined functions declared with `let` are counted too.")
    print()
    print("| function | queries | calls |")
    print("| --- | ---: | ---: |")
    for name, count in sorted(queries.items(), key=lambda item: (-item[1], item[0])):
        print(f"| {name} | {count} | {calls[name]} |")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: count_functions.py CORPUS.jsonl [...] > function_counts.md")
    main(sys.argv[1:])
