"""Produce the process-tree reference fixture from MSTICPy.

Runs MSTICPy's `build_process_tree` (schema inferred from the columns) on processes_on_host.csv
and writes each process's key, parent key, root/leaf/branch flags and depth, plus MSTICPy's
summary, to a JSON file that the Rust agreement test reads.

Usage: python analytics_proctree.py INPUT.csv OUTPUT.json
"""

import json
import sys
from importlib.metadata import version

import pandas as pd
from msticpy.transform.proc_tree_builder import build_process_tree
from msticpy.transform.process_tree_utils import get_summary_info


def main(input_path: str, output_path: str) -> None:
    data = pd.read_csv(input_path, index_col=0, parse_dates=["TimeGenerated"])
    tree = build_process_tree(data)
    processes = []
    for key, row in tree.iterrows():
        processes.append(
            {
                "key": key,
                "parent_key": None if pd.isna(row["parent_key"]) else row["parent_key"],
                "is_root": bool(row["IsRoot"]),
                "is_leaf": bool(row["IsLeaf"]),
                "is_branch": bool(row["IsBranch"]),
                "depth": int(row["path"].count("/")) + 1,
            }
        )
    summary = {name: int(value) for name, value in get_summary_info(tree).items()}
    reference = {
        "producer": {"msticpy": version("msticpy"), "pandas": version("pandas")},
        "summary": summary,
        "processes": processes,
    }
    with open(output_path, "w", encoding="utf-8") as output:
        json.dump(reference, output, indent=1)
        output.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
