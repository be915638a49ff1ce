#!/usr/bin/env python3
"""Copy function signatures from kql-builtins.json into the catalog data.

Usage: import_signatures.py BUILTINS_JSON [NAME...]

For every entry of data/functions.json, and for each NAME given (added as a new
entry with an empty summary and example to be written by hand), this script
sets "kind" and "signatures" from BUILTINS_JSON, in the compact form that
src/function.rs parses: "(name: Type, optional?: Type, repeated: Type...): Returns".
With --all, every built-in missing from data/functions.json is added that way.

Summaries, examples and parameter notes already in data/functions.json are kept
as they are. The tests compare the signatures with data/reference/kql-builtins.json,
so copy BUILTINS_JSON there when it changes.
"""

import json
import pathlib
import sys

DATA = pathlib.Path(__file__).resolve().parent.parent / "data"


def compact(signature: dict) -> str:
    parts = []
    for p in signature["parameters"]:
        name = p["name"] + ("?" if p["optional"] else "")
        ty = p["type"] + ("..." if p["repeatable"] else "")
        parts.append(f"{name}: {ty}")
    text = "(" + ", ".join(parts) + ")"
    if signature["returns"]:
        text += ": " + signature["returns"]
    return text


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        builtins = json.load(f)

    # Three names (hll_merge, merge_tdigest, tdigest_merge) are both a scalar function
    # and an aggregate. This catalog keeps the aggregate entry for them.
    by_name = {}
    for group, kind in (("functions", "scalar"), ("aggregates", "aggregate"), ("plugins", "plugin")):
        for entry in builtins[group]:
            by_name[entry["name"]] = (group, kind, entry)

    functions_path = DATA / "functions.json"
    functions = json.loads(functions_path.read_text(encoding="utf-8")) if functions_path.exists() else []
    known = {f["name"] for f in functions}
    names = sys.argv[2:]
    if names == ["--all"]:
        names = [e["name"] for group in ("functions", "aggregates", "plugins") for e in builtins[group]]
    for name in names:
        if name not in known:
            functions.append({"name": name, "summary": "", "example": ""})
            known.add(name)

    for function in functions:
        name = function["name"]
        if name not in by_name:
            print(f"error: `{name}` is not in {sys.argv[1]}. Check the spelling", file=sys.stderr)
            return 1
        _group, kind, entry = by_name[name]
        function["kind"] = kind
        function["signatures"] = [compact(s) for s in entry["signatures"]]

    keys = ("name", "kind", "signatures", "summary", "parameters", "example")
    ordered = [{key: f[key] for key in keys if key in f} for f in functions]
    functions_path.write_text(json.dumps(ordered, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
