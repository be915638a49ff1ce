"""Produce the anomalous-sequence reference fixture from MSTICPy.

Sessionizes demo_exchange_data.csv with MSTICPy's `sessionize_data` (UserId and ClientIP as the
user columns, sessions of at most 20 minutes, gaps of at most 2 minutes), then trains MSTICPy's
`Model` three times: on the Operation names alone, on the operations with the parameter names from
the Parameters JSON, and on the operations with the parameter names and values. For each model it
writes every session's likelihood, geometric-mean likelihood and rarest window (length 2 and 3,
plain and geometric mean) to a JSON file that the Rust agreement test reads.

Usage: python analytics_sequences.py INPUT.csv OUTPUT.json
"""

import json
import math
import sys
from importlib.metadata import version

import pandas as pd
from msticpy.analysis.anomalous_sequence.model import Model
from msticpy.analysis.anomalous_sequence.sessionize import sessionize_data
from msticpy.analysis.anomalous_sequence.utils.data_structures import Cmd

USER_COLUMNS = ["UserId", "ClientIP"]
MAX_SESSION_MINUTES = 20
MAX_GAP_MINUTES = 2
WINDOWS = [2, 3]


def parameters_to_dict(text: str) -> dict:
    return {item["Name"]: item["Value"] for item in json.loads(text)}


def number_or_none(value: float):
    return None if value is None or math.isnan(value) else float(value)


def window_names(window: list) -> list:
    return [cmd if isinstance(cmd, str) else cmd.name for cmd in window]


def score_model(sessions: list) -> dict:
    model = Model(sessions=sessions)
    model.train()
    model.compute_likelihoods_of_sessions(use_start_end_tokens=True)
    model.compute_geomean_lik_of_sessions()
    for window in WINDOWS:
        for geo in (False, True):
            model.compute_rarest_windows(window_len=window, use_start_end_tokens=True, use_geo_mean=geo)

    scores = []
    for index in range(len(sessions)):
        entry = {
            "likelihood": number_or_none(model.session_likelihoods[index]),
            "geomean_likelihood": number_or_none(model.session_geomean_likelihoods[index]),
        }
        for window in WINDOWS:
            entry[f"rarest_window{window}_likelihood"] = number_or_none(
                model.rare_window_likelihoods[window][index]
            )
            entry[f"rarest_window{window}"] = window_names(model.rare_windows[window][index])
            entry[f"rarest_window{window}_geomean_likelihood"] = number_or_none(
                model.rare_window_likelihoods_geo[window][index]
            )
        scores.append(entry)
    modellable = sorted(model.modellable_params) if model.modellable_params else []
    return {"modellable_params": modellable, "sessions": scores}


def main(input_path: str, output_path: str) -> None:
    data = pd.read_csv(input_path)
    data["cmd_names"] = [
        Cmd(name=operation, params=set(parameters_to_dict(parameters)))
        for operation, parameters in zip(data["Operation"], data["Parameters"])
    ]
    data["cmd_values"] = [
        Cmd(name=operation, params=parameters_to_dict(parameters))
        for operation, parameters in zip(data["Operation"], data["Parameters"])
    ]

    sessions = {}
    for column in ["Operation", "cmd_names", "cmd_values"]:
        sessions[column] = sessionize_data(
            data=data,
            user_identifier_cols=USER_COLUMNS,
            time_col="TimeGenerated",
            max_session_time_mins=MAX_SESSION_MINUTES,
            max_event_separation_mins=MAX_GAP_MINUTES,
            event_col=column,
        )

    frame = sessions["Operation"]
    session_rows = []
    for row in frame.itertuples(index=False):
        session_rows.append(
            {
                "user": [None if pd.isna(getattr(row, c)) else getattr(row, c) for c in USER_COLUMNS],
                "start": row.TimeGenerated_min.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "end": row.TimeGenerated_max.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "number_events": int(row.number_events),
                "commands": list(row.Operation_list),
            }
        )

    reference = {
        "producer": {"msticpy": version("msticpy"), "pandas": version("pandas")},
        "parameters": {
            "user_columns": USER_COLUMNS,
            "max_session_minutes": MAX_SESSION_MINUTES,
            "max_gap_minutes": MAX_GAP_MINUTES,
        },
        "sessions": session_rows,
        "commands": score_model(frame["Operation_list"].tolist()),
        "names": score_model(sessions["cmd_names"]["cmd_names_list"].tolist()),
        "values": score_model(sessions["cmd_values"]["cmd_values_list"].tolist()),
    }
    with open(output_path, "w", encoding="utf-8") as output:
        json.dump(reference, output, indent=1)
        output.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
