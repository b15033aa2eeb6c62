"""spider-exec-score: execution-match scoring of predictions made elsewhere, with the task's code path.

    spider-exec-score --spider-dir DIR --predictions IN.jsonl --output OUT.jsonl [--keep-distinct] [--timeout S]

Each input line needs db_id, gold and prediction; other fields pass through. Each output line adds
prediction_sql (the prediction after the lm-eval task's own cleanup: cut at its text stops, first statement),
exec_match (0/1), error (null or a short reason), gold_error, gold_empty (the gold result has no rows) and hardness, or skipped (with the reason) when the
question's database is missing. Whatever goes wrong with one record becomes that record's error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

from tqdm import tqdm

from .executor import Limits
from .hardness import LEVELS, hardness_or_unknown
from .pool import WorkerPool
from .records import atomic_path, read_records
from .spider_data import SpiderDataError, database_path, resolve_spider_dir
from .sql_text import clean_generation

REQUIRED_FIELDS = ("db_id", "gold", "prediction")  # no lm-eval / datasets import here: start-up is part of the cost


def read_predictions(path: Path) -> list[dict]:
    if not path.is_file():
        raise SpiderDataError(f"{path}: predictions file not found")
    return read_records(path, REQUIRED_FIELDS, SpiderDataError)


def score_records(
    records: list[dict], spider_dir: Path, keep_distinct: bool, timeout: float, workers: int | None = None
) -> list[dict]:
    out = [
        dict(r, hardness=hardness_or_unknown(r["gold"]), prediction_sql=clean_generation(r["prediction"]))
        for r in records
    ]
    runnable = []
    for record in out:
        db = database_path(spider_dir, record["db_id"])
        if db.is_file():
            runnable.append(record)
        else:
            record["skipped"] = f"database missing: {db}"
    tasks = [
        {
            "db": str(database_path(spider_dir, r["db_id"]).resolve()),
            "gold": r["gold"],
            "prediction": r["prediction_sql"],
            "keep_distinct": keep_distinct,
            "timeout": timeout,
            "max_rows": Limits.max_rows,
        }
        for r in runnable
    ]
    pool = WorkerPool(workers)
    try:
        with tqdm(total=len(tasks), desc="executing", unit="pair", disable=None) as bar:
            scores = pool.run(tasks, on_result=lambda *_: bar.update())
    finally:
        pool.close()
    for record, score in zip(runnable, scores, strict=True):
        record.update(score)
    return out


def summarise(scored: list[dict]) -> str:
    done = [r for r in scored if "skipped" not in r]
    by_level = defaultdict(list)
    for r in done:
        by_level[r["hardness"]].append(r["exec_match"])
    lines = [f"EX {_ratio([r['exec_match'] for r in done])} over {len(done)} executed pairs"]
    for level in LEVELS + ("unknown",):
        if by_level[level]:
            lines.append(f"  {level:<7} {_ratio(by_level[level])} ({len(by_level[level])})")
    nonempty = [r["exec_match"] for r in done if r.get("gold_empty") == 0]
    empty = sum(r.get("gold_empty") == 1 for r in done)
    lines.append(
        f"EX on the {len(nonempty)} questions whose gold result has rows: {_ratio(nonempty)} ({empty} gold results empty)"
    )
    errors = Counter(r["error"].split(":")[0] for r in done if r.get("error"))
    lines.append(f"prediction errors: {sum(errors.values())}" + (f" ({dict(errors)})" if errors else ""))
    lines.append(f"gold errors (not counted against the model): {sum(bool(r.get('gold_error')) for r in done)}")
    skipped = Counter(r["db_id"] for r in scored if "skipped" in r)
    lines.append(f"skipped, database missing: {sum(skipped.values())}" + (f" ({dict(skipped)})" if skipped else ""))
    return "\n".join(lines)


def _ratio(values: list[int]) -> str:
    return f"{sum(values) / len(values):.4f}" if values else "n/a"


def write_jsonl_atomically(path: Path, records: list[dict]) -> None:
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8") as f:
        f.writelines(json.dumps(record, ensure_ascii=False) + "\n" for record in records)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="spider-exec-score", description=__doc__.split("\n\n")[0])
    parser.add_argument("--spider-dir", help="Spider directory (default: $SPIDER_DIR)")
    parser.add_argument("--predictions", required=True, type=Path, help="input JSONL: db_id, gold, prediction")
    parser.add_argument("--output", required=True, type=Path, help="output JSONL, written when scoring is complete")
    parser.add_argument("--keep-distinct", action="store_true", help="do not remove DISTINCT before executing")
    parser.add_argument(
        "--timeout", type=float, default=Limits.timeout_s, help="seconds per query (default %(default)s)"
    )
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
    args = parser.parse_args(argv)
    try:
        if args.timeout <= 0:
            raise SpiderDataError(f"--timeout must be positive, got {args.timeout}")
        spider_dir = resolve_spider_dir(args.spider_dir)
        records = read_predictions(args.predictions)
    except SpiderDataError as e:
        print(f"spider-exec-score: {e}", file=sys.stderr)
        return 2
    scored = score_records(records, spider_dir, args.keep_distinct, args.timeout, args.workers)
    write_jsonl_atomically(args.output, scored)
    print(summarise(scored))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
