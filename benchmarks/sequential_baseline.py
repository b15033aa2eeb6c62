"""The baseline the scorer is measured against: what the official evaluator's execution mode does per pair.

    python -m benchmarks.sequential_baseline SPIDER_DIR PREDICTIONS.jsonl

One process, pairs in order, a fresh read-write sqlite3 connection per query (no read-only mode, no
authorizer, no limits, no isolation), the same result comparison as ours. Prints EX and the pair count.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

from tradeoff_tasks.compare import results_match
from tradeoff_tasks.sql_text import clean_generation, normalise_for_execution, order_matters


def execute(db: Path, sql: str):
    conn = sqlite3.connect(db)
    conn.text_factory = lambda raw: raw.decode(errors="ignore")
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def main() -> None:
    spider, predictions = Path(sys.argv[1]), Path(sys.argv[2])
    matches = n = 0
    for line in predictions.read_text().splitlines():
        record = json.loads(line)
        db = spider / "database" / record["db_id"] / f"{record['db_id']}.sqlite"
        if not db.is_file():
            continue
        gold = execute(db, normalise_for_execution(record["gold"]))
        pred = execute(db, normalise_for_execution(clean_generation(record["prediction"])))
        n += 1
        matches += gold is not None and pred is not None and results_match(gold, pred, order_matters(record["gold"]))
    print(f"EX {matches / n:.4f} over {n} pairs")


if __name__ == "__main__":
    main()
