#!/usr/bin/env python3
"""Render every MSTICPy query template with MSTICPy itself and write the results as JSON.

The JSON is the snapshot that Quarry's differential test
(server/quarry/tests/templates_msticpy_compat.rs) compares its own rendering with, so CI needs
no Python. Regenerate it after changing the cases below or the template fixtures:

    python3 -m venv ~/.cache/quarry-venv
    ~/.cache/quarry-venv/bin/pip install msticpy==3.0.2 splunk-sdk
    ~/.cache/quarry-venv/bin/python tests/msticpy-compat/render_msticpy.py

The script calls MSTICPy's real code: `read_query_def_file` to read each file, `QuerySource` to
assemble each query and `QuerySource.create_query` to render it, with the list and datetime
formatters of MSTICPy's Microsoft Sentinel driver (KQL) or Splunk driver. The clock is fixed so
that relative times (`-3d@d`, numbers of days) render the same on every run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

import msticpy
from msticpy.data.core import query_source as query_source_module
from msticpy.data.core.data_query_reader import read_query_def_file
from msticpy.data.core.query_defns import Formatters
from msticpy.data.core.query_source import QuerySource
from msticpy.data.drivers.azure_monitor_driver import AzureMonitorDriver
from msticpy.data.drivers.splunk_driver import SplunkDriver

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "msticpy-queries"
SNAPSHOT = Path(__file__).resolve().parent / "msticpy_renderings.json"

# The instant that relative datetimes count from, on both sides of the comparison.
FIXED_NOW = dt.datetime(2024, 3, 15, 10, 20, 30, 123456, tzinfo=dt.timezone.utc)


class _DatetimeMeta(type):
    """Keep `isinstance(value, datetime)` true for datetimes made by dateutil."""

    def __instancecheck__(cls, instance):
        return isinstance(instance, dt.datetime)


class _FixedClockDatetime(dt.datetime, metaclass=_DatetimeMeta):
    """`datetime` whose `now()` returns FIXED_NOW."""

    @classmethod
    def now(cls, tz=None):
        return FIXED_NOW if tz is not None else FIXED_NOW.replace(tzinfo=None)


FORMATTERS = {
    "kql": {Formatters.LIST: AzureMonitorDriver._format_list},
    "splunk": {
        Formatters.DATETIME: SplunkDriver._format_datetime,
        Formatters.LIST: SplunkDriver._format_list,
    },
}

# Values for each parameter type, per case. Strings take the parameter name so that a value
# put in the wrong field shows in the diff.
DATETIME_VALUES = {
    "required": ["2024-03-01T12:00:00Z", "2024-03-02 08:30:00"],
    "relative": ["-3d@d", "-2"],
    "offsets": ["-1w", "0d@d"],
}


def dialect_for(metadata: dict) -> str:
    environments = metadata.get("data_environments") or []
    return "splunk" if "Splunk" in environments else "kql"


def value_for(case: str, name: str, props: dict, position: int):
    """Return the value the case passes for a parameter (None: leave it out)."""
    p_type = props.get("type")
    has_default = "default" in props and props["default"] is not None
    if case == "required" and has_default:
        return None
    if p_type == "datetime":
        values = DATETIME_VALUES.get(case, DATETIME_VALUES["required"])
        return values[position % len(values)]
    if p_type == "list":
        if case == "quotes":
            return ["o'brien", 'say "hi"', "back\\slash"]
        return "alpha, beta,gamma" if position % 2 else ["one", "two"]
    if p_type == "int":
        return 7
    if p_type == "float":
        return 2.5
    if case == "quotes":
        return f"{name} it's \"quoted\" \\ end"
    if has_default:
        return None
    return f"{name}-value" if case == "offsets" else f"{name}_value"


CASES = ["required", "relative", "offsets", "quotes"]


def render_case(source: QuerySource, dialect: str, case: str) -> dict:
    params = {}
    aliases_used = {}
    for position, (name, props) in enumerate(sorted(source.params.items())):
        value = value_for(case, name, props, position)
        if value is None:
            continue
        key = name
        aliases = props.get("aliases")
        if case == "relative" and aliases:
            key = aliases if isinstance(aliases, str) else aliases[0]
            aliases_used[key] = name
        params[key] = value
    result = {"case": case, "params": params}
    try:
        result["rendered"] = source.create_query(formatters=FORMATTERS[dialect], **params)
    except Exception as error:  # noqa: BLE001 - the snapshot records MSTICPy's failures too
        result["error"] = f"{type(error).__name__}: {error}"
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=SNAPSHOT, help="JSON file to write")
    args = parser.parse_args()

    query_source_module.datetime = _FixedClockDatetime
    renderings = []
    for path in sorted(FIXTURES.rglob("*.yaml")):
        sources, defaults, metadata = read_query_def_file(str(path))
        dialect = dialect_for(metadata)
        for name, source_def in sources.items():
            source = QuerySource(name, source_def, defaults, metadata)
            for case in CASES:
                entry = {
                    "file": path.relative_to(FIXTURES).as_posix(),
                    "template": name,
                    "dialect": dialect,
                }
                entry.update(render_case(source, dialect, case))
                renderings.append(entry)

    snapshot = {
        "msticpy_version": msticpy.__version__,
        "now": FIXED_NOW.isoformat(),
        "renderings": renderings,
    }
    args.output.write_text(json.dumps(snapshot, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    failures = sum(1 for entry in renderings if "error" in entry)
    print(f"wrote {len(renderings)} renderings ({failures} MSTICPy errors) to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
