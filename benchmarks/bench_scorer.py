"""Benchmark: `spider-exec-score` as a whole process vs. the sequential read-write baseline, on Spider dev.

    python -m benchmarks.bench_scorer --spider-dir data/spider [--repeats 5]

Two prediction sets over all dev questions: predictions = gold, and deterministic perturbations of the gold
query (wrong LIMIT, flipped ORDER BY, an empty WHERE, a projection swapped for count(*), a syntax error).
Each command runs --repeats times in the same session; the median wall time of each and their ratio are
printed. Both must report the same EX (the baseline has no limits, ours enforces all of them). Ours runs
twice: with a cold on-disk cache (a fresh cache directory every repeat: gold queries executed, hardness
parsed) and with a warm one (filled by an earlier run, as in any run after the first on the same data).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def perturb(sql: str, i: int) -> str:
    kind = i % 5
    if kind == 0:
        return re.sub(r"(?i)\blimit\s+\d+", "LIMIT 2", sql) if re.search(r"(?i)\blimit", sql) else sql + " LIMIT 1"
    if kind == 1:
        return re.sub(r"(?i)\bdesc\b", "ASC", sql) if re.search(r"(?i)\bdesc\b", sql) else sql
    if kind == 2:
        return f"SELECT * FROM ({sql}) WHERE 1 = 0"
    if kind == 3:
        return re.sub(r"(?is)^\s*select\s+.*?\s+from\b", "SELECT count(*) FROM", sql, count=1)
    return sql.replace("SELECT", "SELEC", 1)


def timed(command: list[str], repeats: int, cache_dir_of=lambda repeat: None) -> tuple[float, str]:
    """Median wall time; cache_dir_of(repeat) is the TRADEOFF_CACHE_DIR of that repeat (None: unchanged)."""
    walls, out = [], ""
    for i in range(repeats):
        env = dict(os.environ)
        if cache_dir_of(i) is not None:
            env["TRADEOFF_CACHE_DIR"] = str(cache_dir_of(i))
        start = time.perf_counter()
        out = subprocess.run(command, capture_output=True, text=True, check=True, env=env).stdout
        walls.append(time.perf_counter() - start)
    return statistics.median(walls), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--spider-dir", required=True, type=Path)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    dev = json.loads((args.spider_dir / "dev.json").read_text())
    with tempfile.TemporaryDirectory() as tmp:
        for name, predict in (("pred = gold", lambda q, i: q), ("perturbed", perturb)):
            path = Path(tmp) / "predictions.jsonl"
            path.write_text(
                "".join(
                    json.dumps({"db_id": q["db_id"], "gold": q["query"], "prediction": predict(q["query"], i)}) + "\n"
                    for i, q in enumerate(dev)
                )
            )
            ours = [
                sys.executable,
                "-m",
                "tradeoff_tasks.score_cli",
                "--spider-dir",
                str(args.spider_dir),
                "--predictions",
                str(path),
                "--output",
                str(Path(tmp) / "scored.jsonl"),
            ]
            cold_dir, warm_dir = Path(tmp) / name.replace(" ", ""), Path(tmp) / "warm"
            cold, cold_out = timed(
                ours, args.repeats, lambda i, d=cold_dir: d / f"cold-{i}"
            )  # a fresh cache each time
            timed(ours, 1, lambda i, d=warm_dir: d)  # fills the warm cache
            warm, warm_out = timed(ours, args.repeats, lambda i, d=warm_dir: d)
            base, base_out = timed(
                [sys.executable, "-m", "benchmarks.sequential_baseline", str(args.spider_dir), str(path)], args.repeats
            )
            print(
                f"{name}: spider-exec-score cold cache {cold:.3f} s ({cold_out.splitlines()[0]}), warm cache "
                f"{warm:.3f} s ({warm_out.splitlines()[0]}); sequential read-write baseline {base:.3f} s "
                f"({base_out.strip()}); baseline / ours = {base / cold:.2f}x cold, {base / warm:.2f}x warm"
            )


if __name__ == "__main__":
    main()
