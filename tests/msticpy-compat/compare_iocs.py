#!/usr/bin/env python3
"""Compare `quarry iocs` with MSTICPy's IoCExtract on a corpus, line by line and type by type.

    python3 -m venv ~/.cache/quarry-venv
    ~/.cache/quarry-venv/bin/pip install msticpy==3.0.2
    ~/.cache/quarry-venv/bin/python tests/msticpy-compat/compare_iocs.py \
        --quarry target/debug/quarry tests/msticpy-compat/ioc_corpus.txt

MSTICPy's `IoCExtract.extract(text)` returns a set of values per type for each line. Quarry's
JSON output gives each indicator's line, type and value (refanged). Values are compared after
lower-casing. The script prints a table of matches and differences per type and then every
difference, and always exits 0: it records the comparison, it does not judge it.
"""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
from pathlib import Path

import tldextract

# MSTICPy validates domains with tldextract's module-level extractor, which downloads the public
# suffix list on first use. Replace it with one that uses the snapshot tldextract ships, so the
# comparison sends no request.
tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
tldextract.extract = tldextract.tldextract.TLD_EXTRACTOR

from msticpy.transform.iocextract import IoCExtract  # noqa: E402

TYPES = ["ipv4", "ipv6", "dns", "url", "email", "md5_hash", "sha1_hash", "sha256_hash",
         "windows_path", "linux_path"]


def msticpy_iocs(lines: list[str]) -> dict[tuple[int, str], set[str]]:
    extractor = IoCExtract()
    found: dict[tuple[int, str], set[str]] = collections.defaultdict(set)
    for number, line in enumerate(lines, start=1):
        for ioc_type, values in extractor.extract(line).items():
            for value in values:
                found[(number, ioc_type)].add(value.lower())
    return found


def quarry_iocs(binary: str, corpus: Path) -> dict[tuple[int, str], set[str]]:
    output = subprocess.run(
        [binary, "iocs", "-f", str(corpus), "--format", "json"],
        check=True, capture_output=True, text=True,
    )
    found: dict[tuple[int, str], set[str]] = collections.defaultdict(set)
    for indicator in json.loads(output.stdout):
        found[(indicator["line"], indicator["type"])].add(indicator["value"].lower())
    return found


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quarry", required=True, help="path of the quarry binary")
    parser.add_argument("corpus", type=Path)
    args = parser.parse_args()
    lines = args.corpus.read_text(encoding="utf-8").splitlines()
    theirs = msticpy_iocs(lines)
    ours = quarry_iocs(args.quarry, args.corpus)

    counts = {ioc_type: collections.Counter() for ioc_type in TYPES}
    differences = []
    for key in sorted(set(theirs) | set(ours)):
        line, ioc_type = key
        both = theirs.get(key, set()) & ours.get(key, set())
        only_msticpy = theirs.get(key, set()) - ours.get(key, set())
        only_quarry = ours.get(key, set()) - theirs.get(key, set())
        counter = counts.setdefault(ioc_type, collections.Counter())
        counter["both"] += len(both)
        counter["msticpy only"] += len(only_msticpy)
        counter["quarry only"] += len(only_quarry)
        for value in sorted(only_msticpy):
            differences.append((line, ioc_type, "msticpy only", value))
        for value in sorted(only_quarry):
            differences.append((line, ioc_type, "quarry only", value))

    print("| type | both | MSTICPy only | Quarry only |")
    print("|---|---|---|---|")
    for ioc_type, counter in counts.items():
        print(f"| {ioc_type} | {counter['both']} | {counter['msticpy only']} | {counter['quarry only']} |")
    print()
    for line, ioc_type, side, value in differences:
        print(f"line {line}: {ioc_type}: {side}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
