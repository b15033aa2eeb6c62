"""Access to a Spider directory in the official layout, and the evaluation/training rows built from it.

Layout: dev.json, train_spider.json, tables.json, database/<db_id>/<db_id>.sqlite.
"""

from __future__ import annotations

import json
import logging
import os
from collections import Counter
from functools import lru_cache
from pathlib import Path

from . import prompts
from .executor import Limits, QueryError, ReadOnlyDatabase
from .hardness import hardness_or_unknown

log = logging.getLogger(__name__)
SPLIT_FILES = {"dev": "dev.json", "train": "train_spider.json"}


class SpiderDataError(ValueError):
    """Bad Spider input; the message is one line naming the file or setting and what to do."""


def resolve_spider_dir(spider_dir: str | os.PathLike | None = None) -> Path:
    value = spider_dir or os.environ.get("SPIDER_DIR")
    if not value:
        raise SpiderDataError(
            'no Spider directory given: pass --metadata \'{"spider_dir": "DIR"}\' or set SPIDER_DIR=DIR'
        )
    path = Path(value).expanduser()
    if not (path / "tables.json").is_file():
        raise SpiderDataError(f"{path}: not a Spider directory (tables.json missing); check spider_dir / SPIDER_DIR")
    return path


def _read_json(path: Path):
    if not path.is_file():
        raise SpiderDataError(f"{path}: file missing; is this a complete Spider directory?")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise SpiderDataError(f"{path}: invalid JSON ({e})") from None


@lru_cache(maxsize=8)
def load_tables(spider_dir: Path) -> dict[str, dict]:
    return {entry["db_id"]: entry for entry in _read_json(spider_dir / "tables.json")}


def load_questions(spider_dir: Path, split: str) -> list[dict]:
    if split not in SPLIT_FILES:
        raise SpiderDataError(f"unknown Spider split {split!r}; use one of {sorted(SPLIT_FILES)}")
    return _read_json(spider_dir / SPLIT_FILES[split])


def database_path(spider_dir: Path, db_id: str) -> Path:
    return spider_dir / "database" / db_id / f"{db_id}.sqlite"


def _sample_rows(db_path: Path, tables_entry: dict, n_rows: int) -> dict[str, list[tuple]]:
    database = ReadOnlyDatabase(db_path, Limits(timeout_s=5.0, max_rows=n_rows))
    try:
        rows = {}
        for table in tables_entry["table_names_original"]:
            try:
                rows[table] = database.query(f"SELECT * FROM {prompts.quote_identifier(table)} LIMIT {n_rows}")
            except QueryError:
                rows[table] = []
        return rows
    finally:
        database.close()


@lru_cache(maxsize=256)
def schema_text(spider_dir: Path, db_id: str, sample_rows: int = 0) -> str:
    tables = load_tables(spider_dir)
    if db_id not in tables:
        raise SpiderDataError(f"{spider_dir / 'tables.json'}: no schema for database {db_id!r}")
    rows = None
    if sample_rows > 0 and database_path(spider_dir, db_id).is_file():
        rows = _sample_rows(database_path(spider_dir, db_id), tables[db_id], sample_rows)
    return prompts.render_schema(tables[db_id], rows)


def build_rows(
    spider_dir: str | os.PathLike | None,
    split: str = "dev",
    sample_rows: int = 0,
    require_databases: bool = True,
    fail_on_missing_db: bool = False,
) -> list[dict]:
    """One row per question: question, gold query, db_id, db_path, schema, hardness.

    With require_databases (evaluation), questions whose SQLite file is missing are excluded and counted
    in one warning line naming the databases, or raise with fail_on_missing_db. Training needs only
    tables.json, so it passes require_databases=False.
    """
    root = resolve_spider_dir(spider_dir)
    questions = [dict(q, index=i) for i, q in enumerate(load_questions(root, split))]
    missing = Counter(q["db_id"] for q in questions if not database_path(root, q["db_id"]).is_file())
    if require_databases and missing:
        summary = ", ".join(f"{db} ({n} questions)" for db, n in sorted(missing.items()))
        message = (
            f"spider {split}: {sum(missing.values())} of {len(questions)} questions skipped, database missing: "
            f"{summary}"
        )
        if fail_on_missing_db:
            raise SpiderDataError(message + "; add the databases or drop fail_on_missing_db")
        log.warning(message)
        questions = [q for q in questions if q["db_id"] not in missing]
    return [
        {
            "index": q["index"],
            "db_id": q["db_id"],
            "question": q["question"],
            "query": q["query"],
            "db_path": str(database_path(root, q["db_id"]).resolve()),
            "schema": schema_text(root, q["db_id"], sample_rows),
            "hardness": hardness_or_unknown(q["query"]),
        }
        for q in questions
    ]
