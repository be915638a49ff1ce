"""Time ten hunting queries in Quarry's local engine and the same queries as SQL in DuckDB.

Usage: bench-engine.py QUARRY_BINARY WORK_FOLDER [--rows N] [--repeat N] [--warmup N]
                       [--only NAME,...]

The data is the demo dataset scaled up. `quarry run --format json` exports the demo
`SecurityEvent` and `SigninLogs` tables, and DuckDB repeats `SecurityEvent` until it has N
rows (10 million by default). Each copy gets its own host and account suffixes and a few
milliseconds of time shift, so cardinalities grow with the row count. Both tables are
written as Parquet. Then each query runs WARMUP times untimed and REPEAT times timed in a
fresh process on each side, the two sides taking turns: `quarry run --timing --data
WORK_FOLDER` and a Python process with DuckDB over `read_parquet` views. Both sides read the
Parquet files on every run.

The script prints the median time of each side measured inside its own process, from the
query text to the result rows in memory (Quarry: `--timing`, which also counts listing the data
folder and reading the Parquet footers; DuckDB: `execute` and `fetchall`), their ratio, the
median wall time of the whole `quarry run` process (start-up and output included), and the
peak resident memory of each process.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

# name, KQL, equivalent DuckDB SQL.
QUERIES = [
    (
        "filter",
        "SecurityEvent | where EventID == 4625 and LogonType == 3 | count",
        "SELECT count(*) FROM SecurityEvent WHERE EventID = 4625 AND LogonType = 3",
    ),
    (
        "group-by count",
        "SecurityEvent | summarize n = count() by Computer, EventID",
        "SELECT Computer, EventID, count(*) AS n FROM SecurityEvent GROUP BY ALL",
    ),
    (
        "dcount",
        "SecurityEvent | where EventID == 4625 | summarize dcount(TargetUserName) by IpAddress",
        "SELECT IpAddress, count(DISTINCT TargetUserName) FROM SecurityEvent WHERE EventID = 4625 "
        "GROUP BY IpAddress",
    ),
    (
        "join",
        "SecurityEvent | where EventID == 4624 | join kind=inner (SigninLogs | distinct IPAddress) "
        "on $left.IpAddress == $right.IPAddress | summarize n = count() by IpAddress",
        "SELECT s.IpAddress, count(*) AS n FROM SecurityEvent s JOIN (SELECT DISTINCT IPAddress "
        "FROM SigninLogs) i ON s.IpAddress = i.IPAddress WHERE EventID = 4624 GROUP BY s.IpAddress",
    ),
    (
        "top",
        "SecurityEvent | top 10 by TimeGenerated desc | project TimeGenerated, Computer, EventID",
        "SELECT TimeGenerated, Computer, EventID FROM SecurityEvent ORDER BY TimeGenerated DESC "
        "LIMIT 10",
    ),
    (
        "has",
        'SecurityEvent | where CommandLine has "powershell" | count',
        "SELECT count(*) FROM SecurityEvent WHERE regexp_matches(CommandLine, "
        "'(?i)(^|[^a-z0-9])powershell($|[^a-z0-9])')",
    ),
    (
        "mv-expand",
        'SecurityEvent | where EventID == 4688 | mv-expand Part = split(CommandLine, " ") '
        "| summarize n = count() by tostring(Part) | top 10 by n",
        "SELECT Part, count(*) AS n FROM (SELECT unnest(string_split(CommandLine, ' ')) AS Part "
        "FROM SecurityEvent WHERE EventID = 4688) GROUP BY Part ORDER BY n DESC LIMIT 10",
    ),
    (
        "make-series",
        "SecurityEvent | make-series n = count() default = 0 on TimeGenerated step 1h by Computer",
        "WITH bins AS (SELECT Computer, time_bucket(INTERVAL 1 HOUR, TimeGenerated) AS t, "
        "count(*) AS n FROM SecurityEvent GROUP BY ALL), "
        "grid AS (SELECT c.Computer, t.t FROM (SELECT DISTINCT Computer FROM bins) c, "
        "(SELECT unnest(range(min(t), max(t) + INTERVAL 1 HOUR, INTERVAL 1 HOUR)) AS t FROM bins) t) "
        "SELECT g.Computer, list(coalesce(b.n, 0) ORDER BY g.t) AS n FROM grid g LEFT JOIN bins b "
        "USING (Computer, t) GROUP BY g.Computer",
    ),
    (
        "parse",
        'SecurityEvent | parse Account with Domain "\\\\" User | summarize n = count() by Domain',
        "SELECT regexp_extract(Account, '^(.*?)\\\\', 1) AS Domain, count(*) AS n "
        "FROM SecurityEvent GROUP BY Domain",
    ),
    (
        "arg_max",
        "SecurityEvent | where EventID == 4624 | summarize arg_max(TimeGenerated, IpAddress) "
        "by TargetUserName",
        "SELECT TargetUserName, max(TimeGenerated), arg_max(IpAddress, TimeGenerated) "
        "FROM SecurityEvent WHERE EventID = 4624 GROUP BY TargetUserName",
    ),
]

# The SecurityEvent columns kept in the scaled table: the ones the queries use, plus a few
# more so that projection matters.
COLUMNS = [
    "TimeGenerated", "Computer", "EventID", "Account", "TargetUserName", "SubjectUserName",
    "IpAddress", "LogonType", "CommandLine", "NewProcessName", "ParentProcessName", "Activity",
]

DUCKDB_RUNNER = r"""
import sys, time, duckdb
folder, sql = sys.argv[1], sys.argv[2]
con = duckdb.connect()
# A long query draws a progress bar on stdout, which would mix with the timing line.
con.execute("SET enable_progress_bar = false")
for table in ("SecurityEvent", "SigninLogs"):
    con.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{folder}/{table}.parquet')")
start = time.perf_counter()
rows = con.execute(sql).fetchall()
print(time.perf_counter() - start, len(rows))
"""


def export_demo(quarry, table):
    """Return the demo table as DuckDB-readable JSON lines, from `quarry run --format json`."""
    output = subprocess.run(
        [quarry, "run", "--format", "json", table], check=True, capture_output=True, text=True
    ).stdout
    result = json.loads(output)
    return result["columns"], result["rows"]


def generate(quarry, folder, rows):
    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    types = {"string": "VARCHAR", "int": "INTEGER", "long": "BIGINT", "bool": "BOOLEAN",
             "datetime": "TIMESTAMP", "real": "DOUBLE"}
    for table in ("SecurityEvent", "SigninLogs"):
        columns, values = export_demo(quarry, table)
        names = [column["name"] for column in columns]
        lines = folder / f"{table}.jsonl"
        with open(lines, "w", encoding="utf-8") as out:
            for row in values:
                out.write(json.dumps(dict(zip(names, row))) + "\n")
        schema = ", ".join(f"'{c['name']}': '{types.get(c['type'], 'VARCHAR')}'" for c in columns)
        con.execute(f"CREATE TABLE demo_{table} AS SELECT * FROM read_json('{lines}', "
                    f"columns = {{{schema}}})")
        lines.unlink()
    base = con.execute("SELECT count(*) FROM demo_SecurityEvent").fetchone()[0]
    copies = -(-rows // base)
    select = []
    for name in COLUMNS:
        if name in ("Computer", "Account"):
            select.append(f"{name} || '-' || (c.i % 97) AS {name}")
        elif name == "TargetUserName":
            select.append(f"CASE WHEN TargetUserName = '' THEN '' ELSE TargetUserName || '-' "
                          f"|| (c.i % 31) END AS {name}")
        elif name == "TimeGenerated":
            select.append("TimeGenerated + to_milliseconds(c.i % 1000) AS TimeGenerated")
        else:
            select.append(name)
    con.execute(
        f"COPY (SELECT {', '.join(select)} FROM demo_SecurityEvent, range({copies}) AS c(i) "
        f"LIMIT {rows}) TO '{folder}/SecurityEvent.parquet' (FORMAT parquet, ROW_GROUP_SIZE 1000000)"
    )
    con.execute(f"COPY demo_SigninLogs TO '{folder}/SigninLogs.parquet' (FORMAT parquet)")
    return base, copies


def run_with_rusage(command):
    """Run `command` under /usr/bin/time.

    Returns (wall seconds, peak RSS in MiB, stdout, error line or None, stderr).

    GNU time reports the peak resident set of the program itself, which `os.wait4` would
    not: a child forked from this process starts with the parent's pages counted.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        start = time.perf_counter()
        process = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", rss.name, *command], capture_output=True
        )
        elapsed = time.perf_counter() - start
        peak_kib = int(rss.read().strip().splitlines()[-1])
    stderr = process.stderr.decode(errors="replace")
    error = None
    if process.returncode != 0:
        lines = stderr.strip().splitlines()
        error = next((line for line in lines if line.strip()), "failed")
    return elapsed, peak_kib / 1024, process.stdout.decode(errors="replace"), error, stderr


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("quarry")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1,
                        help="runs of each side before the timed ones, not counted")
    parser.add_argument("--only", default="")
    args = parser.parse_args()

    data = args.folder / f"rows-{args.rows}"
    if not (data / "SecurityEvent.parquet").exists():
        print(f"==> generating {args.rows} SecurityEvent rows in {data}", file=sys.stderr)
        base, copies = generate(args.quarry, data, args.rows)
        print(f"    {base} demo rows repeated {copies} times", file=sys.stderr)
    size = (data / "SecurityEvent.parquet").stat().st_size / 2**20
    print(f"SecurityEvent.parquet: {args.rows} rows, {len(COLUMNS)} columns, {size:.0f} MiB")
    print(f"{'query':<16}{'quarry s':>10}{'duckdb s':>10}{'ratio':>8}{'process s':>11}"
          f"{'quarry MiB':>12}{'duckdb MiB':>12}  note")
    only = {name for name in args.only.split(",") if name}
    for name, kql, sql in QUERIES:
        if only and name not in only:
            continue
        quarry_times, quarry_walls, quarry_memory, duck_times, duck_memory = [], [], [], [], []
        note = ""
        quarry_command = [args.quarry, "run", "--timing", "--data", str(data), "--format",
                          "csv", "--max-rows", "20", kql]
        duck_command = [sys.executable, "-c", DUCKDB_RUNNER, str(data), sql]
        # The runs alternate between the two sides, so that a change in the machine's state
        # (the page cache, other load) during the repetitions reaches both. The first
        # `--warmup` runs of each side are not counted.
        for repetition in range(args.warmup + args.repeat):
            counted = repetition >= args.warmup
            if not note:
                elapsed, memory, _, error, stderr = run_with_rusage(quarry_command)
                if error:
                    note = f"quarry: {error}"
                elif counted:
                    timing = next(
                        line for line in stderr.splitlines() if line.startswith("timing:")
                    )
                    quarry_times.append(float(timing.split()[-2]))
                    quarry_walls.append(elapsed)
                    quarry_memory.append(memory)
            _, memory, stdout, error, _ = run_with_rusage(duck_command)
            if error:
                raise SystemExit(f"DuckDB failed on {name}: {error}")
            if counted:
                # DuckDB's time is measured inside its process, so Python's start-up and the
                # import of duckdb do not count; the query still reads the Parquet file.
                duck_times.append(float(stdout.strip().splitlines()[-1].split()[0]))
                duck_memory.append(memory)
        duck = statistics.median(duck_times)
        if quarry_times:
            quarry = statistics.median(quarry_times)
            wall = statistics.median(quarry_walls)
            print(f"{name:<16}{quarry:>10.3f}{duck:>10.3f}{quarry / duck:>8.2f}{wall:>11.3f}"
                  f"{max(quarry_memory):>12.0f}{max(duck_memory):>12.0f}  {note}", flush=True)
        else:
            print(f"{name:<16}{'-':>10}{duck:>10.3f}{'-':>8}{'-':>11}{'-':>12}"
                  f"{max(duck_memory):>12.0f}"
                  f"  not yet supported ({note})", flush=True)


if __name__ == "__main__":
    main()
