"""Produce the time-series reference fixture from MSTICPy and statsmodels.

Runs MSTICPy's `ts_anomalies_stl` and `extract_anomaly_periods` on TimeSeriesDemo.csv and writes
every output column, the raw statsmodels STL components (before MSTICPy casts them to int64), the
anomaly periods and the KQL filter to a JSON file that the Rust agreement test reads.

Usage: python analytics_timeseries.py INPUT.csv OUTPUT.json
"""

import json
import sys
from importlib.metadata import version

import pandas as pd
from msticpy.analysis.timeseries import (
    create_time_period_kqlfilter,
    extract_anomaly_periods,
    ts_anomalies_stl,
)
from statsmodels.tsa.seasonal import STL

VALUE_COLUMN = "TotalBytesSent"
PERIOD = 24
SEASONAL = 7
THRESHOLD = 3.0


def main(input_path: str, output_path: str) -> None:
    data = pd.read_csv(
        input_path,
        usecols=["TimeGenerated", VALUE_COLUMN],
        parse_dates=["TimeGenerated"],
    )

    scored = ts_anomalies_stl(
        data,
        time_column="TimeGenerated",
        data_column=VALUE_COLUMN,
        period=PERIOD,
        seasonal=SEASONAL,
        score_threshold=THRESHOLD,
    )
    raw = STL(data[VALUE_COLUMN].astype(float).to_numpy(), period=PERIOD, seasonal=SEASONAL).fit()
    periods = extract_anomaly_periods(scored, time_column="TimeGenerated")

    rows = []
    for position, row in enumerate(scored.itertuples(index=False)):
        rows.append(
            {
                "time": row.TimeGenerated.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "value": int(getattr(row, VALUE_COLUMN)),
                "residual": int(row.residual),
                "trend": int(row.trend),
                "seasonal": int(row.seasonal),
                "weights": int(row.weights),
                "baseline": int(row.baseline),
                "score": float(row.score),
                "anomalies": int(row.anomalies),
                "stl_trend": float(raw.trend[position]),
                "stl_seasonal": float(raw.seasonal[position]),
                "stl_residual": float(raw.resid[position]),
            }
        )

    reference = {
        "producer": {
            "msticpy": version("msticpy"),
            "statsmodels": version("statsmodels"),
            "pandas": version("pandas"),
        },
        "parameters": {
            "value_column": VALUE_COLUMN,
            "period": PERIOD,
            "seasonal": SEASONAL,
            "score_threshold": THRESHOLD,
        },
        "rows": rows,
        "periods": [
            [start.strftime("%Y-%m-%dT%H:%M:%SZ"), end.strftime("%Y-%m-%dT%H:%M:%SZ")]
            for start, end in periods.items()
        ],
        "kql_filter": create_time_period_kqlfilter(periods),
    }
    with open(output_path, "w", encoding="utf-8") as output:
        json.dump(reference, output, indent=1)
        output.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
