#!/usr/bin/env python3
"""Regenerate the Kusto.Language results that the differential tests compare Quarry with.

Usage (from the repository root):

    KQL_ORACLE_DIR=$HOME/.cache/kql-oracle python3 server/hir/scripts/oracle_fixtures.py \
        PATH/TO/kql-oracle/oracle.js

Install the oracle first with its install.sh (it needs node and npm). The script reads the
corpus in tests/fixtures/corpus/kql and the bundled Sentinel schema, and writes:

- server/hir/tests/oracle/semantic.jsonl: per query, the oracle's semantic errors with the
  name each one covers;
- server/ide/tests/oracle/completion.jsonl: cursor positions after `| where `, `| project `,
  `by ` and inside function arguments of queries the oracle finds clean, with the column names
  the oracle offers there.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT / "tests/fixtures/corpus/kql"
SCHEMA = ROOT / "server/analysis/data/schema/sentinel-tables.json"
SEMANTIC_OUT = ROOT / "server/hir/tests/oracle/semantic.jsonl"
COMPLETION_OUT = ROOT / "server/ide/tests/oracle/completion.jsonl"

# Kusto.Language's CompletionKind value for columns.
COLUMN_KIND = 13
# Positions taken from one query, so that a few long queries do not dominate.
MAX_POSITIONS_PER_QUERY = 1
CURSOR_PATTERNS = [
    re.compile(r"\|\s*where\s+"),
    re.compile(r"\|\s*project\s+"),
    re.compile(r"\bby\s+"),
    re.compile(r"\b(?:tolower|toupper|tostring|isnotempty|isempty|strlen|dcount|count|"
               r"make_set|make_list|countif|max|min|sum|bin|iff|strcat|arg_max)\("),
]


def utf16_length(text):
    return len(text.encode("utf-16-le")) // 2


def utf16_slice(text, start, length):
    encoded = text.encode("utf-16-le")
    return encoded[start * 2:(start + length) * 2].decode("utf-16-le", errors="replace")


def run_oracle(oracle, mode, lines):
    env = dict(os.environ)
    if "KQL_ORACLE_DIR" in env and "KQL_ORACLE_PKG" not in env:
        env["KQL_ORACLE_PKG"] = os.path.join(
            env["KQL_ORACLE_DIR"], "node_modules", "@kusto", "language-service-next")
    result = subprocess.run(
        ["node", oracle, mode, str(SCHEMA)],
        input="".join(json.dumps(line) + "\n" for line in lines),
        capture_output=True, text=True, env=env, check=True)
    return [json.loads(line) for line in result.stdout.splitlines()]


def load_corpus():
    queries = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        with path.open(encoding="utf-8") as file:
            for line in file:
                record = json.loads(line)
                queries.append({"id": record["id"], "query": record["query"]})
    return queries


def semantic(oracle, queries):
    answers = run_oracle(oracle, "semantic", queries)
    texts = {query["id"]: query["query"] for query in queries}
    records = []
    for answer in answers:
        text = texts[answer["id"]]
        errors = [{
            "code": error["code"],
            "start": error["start"],
            "length": error["length"],
            "text": utf16_slice(text, error["start"], error["length"]),
        } for error in answer.get("errors", [])]
        records.append({"id": answer["id"], "errors": errors})
    return records


def cursor_positions(queries, clean_ids):
    positions = []
    for query in queries:
        if query["id"] not in clean_ids:
            continue
        text = query["query"]
        found = []
        for pattern in CURSOR_PATTERNS:
            for match in pattern.finditer(text):
                # Skip matches inside comments.
                line_start = text.rfind("\n", 0, match.start()) + 1
                if "//" in text[line_start:match.start()]:
                    continue
                found.append(match.end())
        for offset in sorted(set(found))[:MAX_POSITIONS_PER_QUERY]:
            positions.append({
                "id": f"{query['id']}@{offset}",
                "query_id": query["id"],
                "query": text,
                "offset": utf16_length(text[:offset]),
                "byte_offset": len(text[:offset].encode("utf-8")),
            })
    return positions


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    oracle = sys.argv[1]
    queries = load_corpus()
    records = semantic(oracle, queries)
    with SEMANTIC_OUT.open("w", encoding="utf-8") as file:
        for record in records:
            file.write(json.dumps(record, ensure_ascii=False) + "\n")

    clean_ids = {record["id"] for record in records if not record["errors"]}
    positions = cursor_positions(queries, clean_ids)
    answers = run_oracle(oracle, "complete", positions)
    with COMPLETION_OUT.open("w", encoding="utf-8") as file:
        for position, answer in zip(positions, answers):
            if "failure" in answer:
                continue
            columns = sorted({item["label"] for item in answer["items"]
                              if item["kind"] == COLUMN_KIND})
            file.write(json.dumps({
                "query_id": position["query_id"],
                "offset": position["offset"],
                "byte_offset": position["byte_offset"],
                "columns": columns,
            }, ensure_ascii=False) + "\n")
    print(f"{len(records)} queries, {len(clean_ids)} clean, {len(positions)} cursor positions")


if __name__ == "__main__":
    main()
