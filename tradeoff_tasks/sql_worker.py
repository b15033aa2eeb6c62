"""Worker process: reads one JSON task per line on stdin, writes one JSON result per line on stdout.

Started by pool.py as `python -m tradeoff_tasks.sql_worker MEMORY_BYTES`. It imports nothing heavy, so it
starts in milliseconds, and its address-space rlimit bounds what any single query can allocate.
"""

from __future__ import annotations

import json
import resource
import sys

from .cache import ResultCache
from .executor import Limits
from .scoring import PairScorer


def main() -> None:
    memory_bytes = int(sys.argv[1])
    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    scorers: dict[tuple, PairScorer] = {}
    cache = ResultCache()  # gold results from earlier runs; TRADEOFF_CACHE_DIR=off disables it
    for line in sys.stdin:
        task = json.loads(line)
        limits = Limits(timeout_s=task["timeout"], max_rows=task["max_rows"])
        scorer = scorers.setdefault((limits.timeout_s, limits.max_rows), PairScorer(limits, cache))
        try:
            result = scorer.score(task["db"], task["gold"], task["prediction"], task["keep_distinct"])
        except MemoryError:
            result = {"exec_match": 0, "error": "memory limit exceeded", "gold_error": None, "gold_empty": None}
        except Exception as e:  # one bad pair never ends the run: it becomes that pair's error
            result = {
                "exec_match": 0,
                "error": f"scoring failed: {type(e).__name__}: {e}",
                "gold_error": None,
                "gold_empty": None,
            }
        sys.stdout.write(json.dumps({"id": task["id"], **result}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
