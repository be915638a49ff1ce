#!/usr/bin/env python3
"""Writes the seed inputs of every fuzz target into OUTPUT/<target>/.

Seeds come from the repository's test fixtures (the KQL corpus, the MSTICPy query templates,
the enrichment samples) and from the hand-written files under fuzz/seeds/. Each seed file is
named by the SHA-1 of its content, as libFuzzer names corpus files.

Usage: make_seeds.py OUTPUT
"""

import hashlib
import json
import random
import sys
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
ROOT = FUZZ.parent
FIXTURES = ROOT / "tests" / "fixtures"
# Longest corpus query used as a kql_reparse seed, in bytes (about 900 of the 1,536 queries).
MAX_REPARSE_SEED_BYTES = 400
# Longest corpus query used as a kql_analysis seed, in bytes (837 of the 1,536 queries). Each
# input runs every editor feature, with hover and completion at three offsets.
MAX_ANALYSIS_SEED_BYTES = 300


def write(output: Path, target: str, data: bytes) -> None:
    folder = output / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / hashlib.sha1(data).hexdigest()).write_bytes(data)


def kql_queries() -> list[str]:
    queries = []
    for path in sorted((FIXTURES / "corpus" / "kql").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                queries.append(json.loads(line)["query"])
    return queries


def edit_script(rng: random.Random, count: int) -> bytes:
    """Random edits in the format `next_edit` in fuzz/src/lib.rs reads: position (16-bit
    little-endian), deletion length, fragment selector."""
    script = bytearray()
    for _ in range(count):
        script += rng.randrange(1 << 16).to_bytes(2, "little")
        script.append(rng.randrange(16))
        script.append(rng.randrange(48))
    return bytes(script)


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    output = Path(sys.argv[1])
    rng = random.Random(0)

    queries = kql_queries()
    for query in queries:
        data = query.encode("utf-8")
        write(output, "kql_parse", data)
        if len(data) <= MAX_ANALYSIS_SEED_BYTES:
            write(output, "kql_analysis", data)
        write(output, "ioc_extract", data)
        # Each reparse input costs two parses per edit, so only short queries seed that target:
        # with all of them, a 30 s run does not get past its first pass over the seeds.
        if len(data) <= MAX_REPARSE_SEED_BYTES:
            write(output, "kql_reparse", data + b"\0" + edit_script(rng, 8))

    for path in sorted((FIXTURES / "msticpy-queries").rglob("*.yaml")):
        data = path.read_bytes()
        write(output, "template_load", data)
        write(output, "config_parse", data)

    # Sentinel hunting queries and analytics rules load through the same template loader.
    for path in sorted((FIXTURES / "sentinel").glob("*.yaml")):
        write(output, "template_load", path.read_bytes())

    for path in sorted((FIXTURES / "enrichment").iterdir()):
        if path.is_file():
            write(output, "ioc_extract", path.read_bytes())

    for target_folder in sorted((FUZZ / "seeds").iterdir()):
        for path in sorted(target_folder.iterdir()):
            write(output, target_folder.name, path.read_bytes())


if __name__ == "__main__":
    main()
