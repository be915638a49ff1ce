"""Compute the expected results of the conformance cases with DuckDB.

Reads a JSON request on stdin: {"folders": {data set: folder}, "cases": [{"name", "data",
"sql"}]}. Writes {name: {"columns": [...], "rows": [[...]]}} or {name: {"error": "..."}} on
stdout. Values are shaped like Quarry's JSON output: datetimes as ISO-8601 UTC strings with
seven fractional digits, timespans as `[-][d.]hh:mm:ss[.fffffff]`, reals as numbers.

Each file in a data folder becomes a view named after its stem. CSV files are read by DuckDB's
own CSV reader, so that the expectations do not depend on Quarry's loader. The views apply two
conventions of Kusto that Quarry's loader also follows: a missing string is an empty string,
and the unnamed first column that pandas writes for its row index is dropped.
"""

import datetime
import csv
import decimal
import json
import math
import pathlib
import sys
import tempfile

import duckdb


def converter_for(name):
    """Return the conversion for a result column, chosen by the suffix of its alias.

    `Name__json` contains JSON text, compared as the value it encodes; `Name__ns` contains a timespan
    as integer nanoseconds (DuckDB's INTERVAL keeps only microseconds); `Name__dtns` holds a
    datetime as nanoseconds since the Unix epoch.
    """
    if name.endswith("__json"):
        return lambda value: None if value is None else json.loads(value)
    if name.endswith("__ns"):
        return lambda value: None if value is None else format_ticks(value // 100)
    if name.endswith("__dtns"):
        return lambda value: None if value is None else format_datetime_ns(value)
    return to_json


def run_with_nanoseconds(con, sql):
    """Run `sql`, returning TIMESTAMP_NS columns as nanoseconds so that no digit is lost.

    Python's datetime stops at microseconds, while Kusto and Quarry keep 100-nanosecond ticks.
    """
    described = con.execute(f"DESCRIBE {sql}").fetchall()
    if not any(column_type == "TIMESTAMP_NS" for _name, column_type, *_rest in described):
        return con.execute(sql)
    select = []
    for name, column_type, *_rest in described:
        quoted = '"' + name.replace('"', '""') + '"'
        if column_type == "TIMESTAMP_NS":
            alias = '"' + (name + "__dtns").replace('"', '""') + '"'
            select.append(f"epoch_ns({quoted}) AS {alias}")
        else:
            select.append(quoted)
    return con.execute(f"SELECT {', '.join(select)} FROM ({sql}) AS result")


def format_datetime_ns(nanos):
    seconds, fraction = divmod(nanos, 1_000_000_000)
    value = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=seconds)
    return value.strftime("%Y-%m-%dT%H:%M:%S") + f".{fraction // 100:07d}Z"


def strict_csv(path, scratch):
    """Rewrite a CSV file with strict quoting, and list the columns that hold hex numbers.

    Python's csv module reads the loosely quoted exports that DuckDB's reader rejects (a bare
    quote inside a quoted field), as pandas does. Hex values such as `0x3e7` stay text in Kusto,
    while DuckDB would read them as integers.
    """
    with open(path, newline="", encoding="utf-8-sig") as source:
        rows = list(csv.reader(source))
    hex_columns = set()
    for row in rows[1:]:
        for index, value in enumerate(row):
            if value[:2].lower() == "0x" and index < len(rows[0]):
                hex_columns.add(rows[0][index])
    target = pathlib.Path(scratch) / path.name
    with open(target, "w", newline="", encoding="utf-8") as output:
        csv.writer(output).writerows(rows)
    return target, hex_columns


def open_dataset(folder, scratch):
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for path in sorted(pathlib.Path(folder).iterdir()):
        if path.suffix == ".csv":
            strict, hex_columns = strict_csv(path, scratch)
            types = ", ".join(f"'{name}': 'VARCHAR'" for name in sorted(hex_columns))
            source = (
                f"read_csv('{strict}', header = true, sample_size = -1, quote = '\"', "
                f"escape = '\"', delim = ',', types = {{{types}}})"
            )
        elif path.suffix == ".parquet":
            source = f"read_parquet('{path}')"
        else:
            continue
        columns = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
        select = []
        for position, (name, dtype, *_rest) in enumerate(columns):
            quoted = '"' + name.replace('"', '""') + '"'
            if position == 0 and name in ("column0", "column00", ""):
                continue
            if dtype == "VARCHAR":
                select.append(f"coalesce({quoted}, '') AS {quoted}")
            elif dtype == "TIMESTAMP WITH TIME ZONE":
                select.append(f"CAST({quoted} AS TIMESTAMP) AS {quoted}")
            else:
                select.append(quoted)
        con.execute(f'CREATE VIEW "{path.stem}" AS SELECT {", ".join(select)} FROM {source}')
    return con


def format_datetime(value):
    if value.tzinfo is not None:
        value = value.astimezone(datetime.timezone.utc).replace(tzinfo=None)
    return value.strftime("%Y-%m-%dT%H:%M:%S") + f".{value.microsecond * 10:07d}Z"


def format_timespan(value):
    return format_ticks((value.days * 86_400 + value.seconds) * 10_000_000 + value.microseconds * 10)


def format_ticks(ticks):
    sign = "-" if ticks < 0 else ""
    ticks = abs(ticks)
    fraction = ticks % 10_000_000
    seconds = ticks // 10_000_000
    days, seconds = divmod(seconds, 86_400)
    hours, seconds = divmod(seconds, 3_600)
    minutes, seconds = divmod(seconds, 60)
    text = f"{sign}"
    if days:
        text += f"{days}."
    text += f"{hours:02d}:{minutes:02d}:{seconds:02d}"
    if fraction:
        text += f".{fraction:07d}"
    return text


def to_json(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, datetime.datetime):
        return format_datetime(value)
    if isinstance(value, datetime.date):
        return format_datetime(datetime.datetime(value.year, value.month, value.day))
    if isinstance(value, datetime.timedelta):
        return format_timespan(value)
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    return str(value)


def main():
    request = json.load(sys.stdin)
    scratch = tempfile.TemporaryDirectory(prefix="quarry-conformance-")
    connections = {
        name: open_dataset(folder, scratch.name) for name, folder in request["folders"].items()
    }
    results = {}
    for case in request["cases"]:
        con = connections[case["data"]]
        try:
            cursor = run_with_nanoseconds(con, case["sql"])
            names = [description[0] for description in cursor.description]
            # A column aliased `Name__json` contains JSON text, compared as the value it encodes.
            converters = [converter_for(name) for name in names]
            columns = [name.split("__")[0] if "__" in name[1:] else name for name in names]
            rows = [
                [convert(value) for value, convert in zip(row, converters)]
                for row in cursor.fetchall()
            ]
            results[case["name"]] = {"columns": columns, "rows": rows}
        except duckdb.Error as error:
            results[case["name"]] = {"error": str(error)}
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
