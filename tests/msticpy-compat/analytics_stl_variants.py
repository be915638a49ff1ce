"""Produce STL reference components for parameter combinations that MSTICPy does not use.

MSTICPy always calls statsmodels' STL with its defaults, so the time-series fixture covers only
that path. This script decomposes one deterministic noisy series with robust fitting, jumps,
degree-0 smoothers and explicit lengths, and writes each result to a JSON file that the Rust
tests read.

Usage: python analytics_stl_variants.py OUTPUT.json
"""

import json
import math
import sys
from importlib.metadata import version

import numpy as np
from statsmodels.tsa.seasonal import STL

VARIANTS = [
    {"period": 24, "seasonal": 7},
    {"period": 24, "seasonal": 7, "robust": True},
    {"period": 24, "seasonal": 11, "seasonal_jump": 2, "trend_jump": 5, "low_pass_jump": 3},
    {"period": 12, "seasonal": 9, "seasonal_deg": 0, "trend_deg": 0, "low_pass_deg": 0},
    {"period": 7, "seasonal": 13, "trend": 15, "low_pass": 9, "robust": True},
    {"period": 24, "seasonal": 301},
]


def series(length: int) -> list:
    values = []
    for i in range(length):
        noise = math.sin(i * 12.9898) * 43758.5453
        noise = (noise - math.floor(noise)) - 0.5
        value = 50 + 0.3 * i + 8 * math.sin(2 * math.pi * i / 24) + 3 * math.cos(2 * math.pi * i / 7)
        values.append(value + 4 * noise + (60 if i % 97 == 13 else 0))
    return values


def main(output_path: str) -> None:
    y = series(300)
    results = []
    for params in VARIANTS:
        fit = STL(np.array(y), **params).fit()
        results.append(
            {
                "params": params,
                "trend": fit.trend.tolist(),
                "seasonal": fit.seasonal.tolist(),
                "residual": fit.resid.tolist(),
                "weights": fit.weights.tolist(),
            }
        )
    with open(output_path, "w", encoding="utf-8") as output:
        json.dump({"statsmodels": version("statsmodels"), "y": y, "variants": results}, output)
        output.write("\n")


if __name__ == "__main__":
    main(sys.argv[1])
