"""Generate benchmark inputs for the analytics, and time MSTICPy on them.

`generate DIR --points N --events N` writes a synthetic hourly series of N points
(series_N.csv) and N synthetic Exchange-style events (events_N.csv) with a deterministic seed.
`run FILE...` times MSTICPy on each file. Series files get STL anomalies (value column
"Value", period 24, seasonal 7), and processes*.csv files get the process tree. Event files
(columns as in demo_exchange_data.csv) get sessionizing plus the parameter-value model with
rarest windows of length 3. Reading the CSV and
parsing the parameter JSON are not timed. Each case prints one JSON line with the best of
`--repeat` runs, in seconds.
"""

import argparse
import json
import math
import random
import sys
import time
from pathlib import Path

COMMANDS = [f"Set-Item{i:02d}" for i in range(40)] + ["New-InboxRule", "Add-MailboxPermission"]
PARAMS = ["Identity", "Force", "ErrorAction", "DomainController", "Enabled", "Quota", "Name"]


def generate_series(path: Path, points: int, rng: random.Random) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("TimeGenerated,Value\n")
        start = 1_556_690_400
        for i in range(points):
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + 3600 * i))
            value = 1000 + 0.05 * i + 200 * math.sin(2 * math.pi * i / 24) + rng.gauss(0, 25)
            if rng.random() < 0.002:
                value += 600
            out.write(f"{stamp},{value:.3f}\n")


def generate_events(path: Path, count: int, rng: random.Random) -> None:
    users = [f"user{i:04d}@contoso.com" for i in range(max(10, count // 200))]
    addresses = {user: f"10.0.{i % 50}.{i % 250}" for i, user in enumerate(users)}
    clock = {user: 1_587_000_000 + rng.randrange(0, 86_400) for user in users}
    previous = {user: rng.choice(COMMANDS) for user in users}
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("TimeGenerated,UserId,ClientIP,Operation,Parameters\n")
        for _ in range(count):
            user = rng.choice(users)
            gap = rng.choice([1, 5, 20, 60, 200, 3600])
            clock[user] += gap
            if rng.random() < 0.7:
                command = COMMANDS[(COMMANDS.index(previous[user]) + 1) % len(COMMANDS)]
            else:
                command = rng.choice(COMMANDS)
            previous[user] = command
            params = []
            for name in rng.sample(PARAMS, rng.randrange(0, 4)):
                if name == "Identity":
                    value = f"obj-{rng.randrange(100_000)}"
                elif name == "Quota":
                    value = str(rng.choice([10, 20, 50, 100]))
                else:
                    value = rng.choice(["true", "false", "Stop", ""])
                params.append({"Name": name, "Value": value})
            stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(clock[user]))
            text = json.dumps(params).replace('"', '""')
            ip = addresses[user] if rng.random() < 0.99 else ""
            out.write(f'{stamp},{user},{ip},{command},"{text}"\n')


def time_best(function, repeat: int) -> float:
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def run_series(path: Path, repeat: int) -> dict:
    import pandas as pd
    from msticpy.analysis.timeseries import ts_anomalies_stl

    value_column = "TotalBytesSent" if "TimeSeriesDemo" in path.name else "Value"
    data = pd.read_csv(path, usecols=["TimeGenerated", value_column], parse_dates=["TimeGenerated"])

    def analyze():
        ts_anomalies_stl(
            data, time_column="TimeGenerated", data_column=value_column, period=24, seasonal=7, score_threshold=3.0
        )

    return {"case": path.name, "rows": len(data), "seconds": time_best(analyze, repeat)}


def run_events(path: Path, repeat: int) -> dict:
    import pandas as pd
    from msticpy.analysis.anomalous_sequence.model import Model
    from msticpy.analysis.anomalous_sequence.sessionize import sessionize_data
    from msticpy.analysis.anomalous_sequence.utils.data_structures import Cmd

    data = pd.read_csv(path)
    data["cmd"] = [
        Cmd(name=op, params={p["Name"]: p["Value"] for p in json.loads(text)})
        for op, text in zip(data["Operation"], data["Parameters"])
    ]
    data = data.drop(columns=["Parameters"])

    def analyze():
        sessions = sessionize_data(
            data=data,
            user_identifier_cols=["UserId", "ClientIP"],
            time_col="TimeGenerated",
            max_session_time_mins=20,
            max_event_separation_mins=2,
            event_col="cmd",
        )
        model = Model(sessions=sessions["cmd_list"].tolist())
        model.train()
        model.compute_rarest_windows(window_len=3, use_start_end_tokens=True, use_geo_mean=False)

    return {"case": path.name, "rows": len(data), "seconds": time_best(analyze, repeat)}


def run_processes(path: Path, repeat: int) -> dict:
    import pandas as pd
    from msticpy.transform.proc_tree_builder import build_process_tree

    data = pd.read_csv(path, index_col=0, parse_dates=["TimeGenerated"])
    return {"case": path.name, "rows": len(data), "seconds": time_best(lambda: build_process_tree(data), repeat)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("generate")
    generate.add_argument("directory", type=Path)
    generate.add_argument("--points", type=int, default=10_000)
    generate.add_argument("--events", type=int, nargs="+", default=[100_000])
    run = commands.add_parser("run")
    run.add_argument("files", type=Path, nargs="+")
    run.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    if args.command == "generate":
        args.directory.mkdir(parents=True, exist_ok=True)
        rng = random.Random(20240601)
        generate_series(args.directory / f"series_{args.points}.csv", args.points, rng)
        for count in args.events:
            generate_events(args.directory / f"events_{count}.csv", count, rng)
        return

    for path in args.files:
        if path.name.startswith("series_") or "TimeSeries" in path.name:
            result = run_series(path, args.repeat)
        elif path.name.startswith("processes"):
            result = run_processes(path, args.repeat)
        else:
            result = run_events(path, args.repeat)
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(main())
