#!/usr/bin/env python3
"""Compare the catalog's function signatures with Kusto.Language's hover text.

Usage: compare_hover_with_oracle.py ORACLE_JS SCHEMA_JSON

For every function in data/functions.json, this script requests from the
kql-oracle wrapper the hover text on the first call of the function in the
entry's own example. The wrapper runs with node, and its README describes how
to install Kusto.Language for it. Kusto.Language shows the overload it bound the call to, for example
`make_set(expr, [maxSize]): dynamic(array(string))`. The script checks that one
of the catalog's overloads has the same parameter names in the same order,
with the same optional markers.

Prints one line per disagreement and a summary line, and exits with status 1
if any function disagrees.
"""

import json
import pathlib
import re
import subprocess
import sys

DATA = pathlib.Path(__file__).resolve().parent.parent / "data"

# Kusto.Language 12.4.1 lists `schema_merge` among its plugins, but its default globals leave
# it out, so it gives an error instead of a hover for the call.
NO_HOVER = {"schema_merge"}


def parse_compact(signature: str) -> list:
    """Return [(name, optional)] for a signature in functions.json's compact form."""
    inner = signature[signature.index("(") + 1 : signature.rindex(")")]
    parameters = []
    for item in filter(None, (part.strip() for part in inner.split(","))):
        name = item.split(":")[0].strip()
        parameters.append((name.rstrip("?"), name.endswith("?")))
    return parameters


def parse_hover(text: str, name: str):
    """Return [(name, optional)] from Kusto.Language's hover line, or None if it is not a call."""
    match = re.match(re.escape(name) + r"\((.*?)\)(?::|$)", text)
    if not match:
        return None
    parameters = []
    optional_depth = 0
    for token in re.findall(r"\[|\]|[A-Za-z_][A-Za-z0-9_]*|\.\.\.", match.group(1)):
        if token == "[":
            optional_depth += 1
        elif token == "]":
            optional_depth -= 1
        elif token != "...":
            parameters.append((token, optional_depth > 0))
    return parameters


def distinct_in_order(parameters: list) -> list:
    """Drop repeats, which Kusto.Language and the catalog spell differently for repeatable runs."""
    seen = []
    for parameter in parameters:
        if parameter[0] not in [name for name, _ in seen]:
            seen.append(parameter)
    return seen


def call_offset(example: str, name: str):
    """Return the UTF-16 offset of the first `name(` call in the example, or None."""
    match = re.search(r"(?<![A-Za-z0-9_.])" + re.escape(name) + r"\s*\(", example)
    if not match:
        return None
    return len(example[: match.start()].encode("utf-16-le")) // 2 + 1


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    oracle, schema = sys.argv[1], sys.argv[2]
    functions = json.loads((DATA / "functions.json").read_text(encoding="utf-8"))

    records = []
    for function in functions:
        offset = call_offset(function["example"], function["name"])
        if offset is not None:
            records.append({"id": function["name"], "query": function["example"], "offset": offset})
    lines = "".join(json.dumps(record) + "\n" for record in records)
    result = subprocess.run(
        ["node", oracle, "hover", schema], input=lines, capture_output=True, text=True, check=True
    )
    hovers = {}
    for line in result.stdout.splitlines():
        if line.strip():
            answer = json.loads(line)
            hovers[answer["id"]] = answer.get("text") or ""

    agree = 0
    disagreements = []
    for function in functions:
        name = function["name"]
        hover = hovers.get(name)
        oracle_parameters = parse_hover(hover, name) if hover is not None else None
        if oracle_parameters is None and name in NO_HOVER:
            continue
        if oracle_parameters is None:
            disagreements.append(f"{name}: no hover for the call in its example ({hover!r})")
            continue
        overloads = [distinct_in_order(parse_compact(s)) for s in function["signatures"]]
        if distinct_in_order(oracle_parameters) in overloads:
            agree += 1
        else:
            disagreements.append(f"{name}: Kusto.Language shows `{hover}`, the catalog has {function['signatures']}")

    for line in disagreements:
        print(line)
    checked = len(functions) - len(NO_HOVER)
    print(f"{agree} of {checked} functions agree with Kusto.Language's hover", file=sys.stderr)
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
