"""How far two spider_exec runs agree, question by question, from their lm-eval `--log_samples` files.

    python -m benchmarks.compare_samples RUN_A/samples_spider_exec_*.jsonl[.gz] RUN_B/samples_spider_exec_*.jsonl[.gz]

Prints how many raw generations, cleaned SQL predictions and execution matches differ, and each run's number of
execution matches: the yardstick for "the same up to numerics" (e.g. two batch sizes, or two attention kernels).
"""

from __future__ import annotations

import argparse
import gzip
import json
from pathlib import Path


def read_samples(path: Path) -> dict[int, dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as lines:
        return {row["doc_id"]: row for row in map(json.loads, lines)}


def compare(a: dict[int, dict], b: dict[int, dict]) -> dict:
    if a.keys() != b.keys():
        raise SystemExit(f"compare_samples: the runs scored different questions ({len(a)} vs {len(b)})")
    differ = {
        field: sorted(i for i in a if a[i][field] != b[i][field])
        for field in ("resps", "filtered_resps", "exec_match")
    }
    return {
        "questions": len(a),
        "raw_differ": len(differ["resps"]),
        "sql_differ": len(differ["filtered_resps"]),
        "exec_match_differ": differ["exec_match"],
        "exec_matches": [sum(r["exec_match"] for r in run.values()) for run in (a, b)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_a", type=Path)
    parser.add_argument("run_b", type=Path)
    args = parser.parse_args()
    print(json.dumps(compare(read_samples(args.run_a), read_samples(args.run_b))))


if __name__ == "__main__":
    main()
