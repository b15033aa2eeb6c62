"""Score one (gold, prediction) pair on a Spider database: normalise, execute both, compare.

Runs inside a worker process (see sql_worker.py / pool.py); it keeps open connections and gold results
for the lifetime of that process, so each database is opened once and each gold query executed once, and
with a ResultCache (cache.py) gold results also outlive the process: later runs and tasks reuse them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .cache import ResultCache
from .compare import results_match
from .executor import Limits, QueryError, ReadOnlyDatabase
from .sql_text import normalise_for_execution, order_matters


@dataclass
class PairScorer:
    limits: Limits = field(default_factory=Limits)
    cache: ResultCache | None = None
    _databases: dict = field(default_factory=dict)
    _gold_results: dict = field(default_factory=dict)

    def _database(self, path: str) -> ReadOnlyDatabase:
        if path not in self._databases:
            self._databases[path] = ReadOnlyDatabase(path, self.limits)
        return self._databases[path]

    def _gold(self, path: str, gold_sql: str):
        """Gold rows, or the QueryError they raised; computed once per (database, normalised gold)."""
        key = (path, gold_sql)
        if key not in self._gold_results:
            disk_key = self.cache.gold_key(path, gold_sql, self.limits) if self.cache else None
            cached = self.cache.get_gold(disk_key) if disk_key else None
            if cached is not None:
                self._gold_results[key] = cached
                return cached
            try:
                self._gold_results[key] = self._database(path).query(gold_sql)
                if disk_key:
                    self.cache.put_gold(disk_key, self._gold_results[key])
            except QueryError as e:
                self._gold_results[key] = e
        return self._gold_results[key]

    def score(self, db_path: str, gold: str, prediction: str, keep_distinct: bool = False) -> dict:
        """{'exec_match': 0|1, 'error': None|reason, 'gold_error': None|reason, 'gold_empty': 0|1|None}.

        A failing gold query yields exec_match 0 with gold_error set and error None: it is reported
        separately and never counted against the model. gold_empty says whether the gold result has no rows
        (any empty prediction matches it), None when the gold query failed.
        """
        gold_sql = normalise_for_execution(gold, keep_distinct)
        pred_sql = normalise_for_execution(prediction, keep_distinct)
        try:
            gold_rows = self._gold(db_path, gold_sql)
        except QueryError as e:  # the database itself could not be opened
            return {"exec_match": 0, "error": None, "gold_error": str(e), "gold_empty": None}
        if isinstance(gold_rows, QueryError):
            return {"exec_match": 0, "error": None, "gold_error": str(gold_rows), "gold_empty": None}
        gold_empty = int(not gold_rows)
        try:
            pred_rows = self._database(db_path).query(pred_sql)
        except QueryError as e:
            return {"exec_match": 0, "error": str(e), "gold_error": None, "gold_empty": gold_empty}
        match = results_match(gold_rows, pred_rows, order_matters(gold))
        return {"exec_match": int(match), "error": None, "gold_error": None, "gold_empty": gold_empty}
