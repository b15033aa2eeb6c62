"""On-disk cache of gold results and hardness levels, shared by runs, tasks and worker processes.

A gold result is keyed by the sha256 of the database file, the normalised gold SQL and the limits it ran
under, so an edited database or other limits never reuse a stale result; only successful results are
kept (a timeout depends on the machine's load). A hardness level is keyed by the gold SQL alone. One
SQLite file: $TRADEOFF_CACHE_DIR/scoring.sqlite (default ~/.cache/tradeoff-tasks); delete it to start over,
or set TRADEOFF_CACHE_DIR=off to run without. Values are stored as JSON (bytes tagged), never pickled.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from .records import file_sha256

_SCHEMA = """
CREATE TABLE IF NOT EXISTS gold (key TEXT PRIMARY KEY, rows TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS hardness (sql TEXT PRIMARY KEY, level TEXT NOT NULL);
"""


def cache_dir() -> Path | None:
    configured = os.environ.get("TRADEOFF_CACHE_DIR")
    if configured == "off":
        return None
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "tradeoff-tasks"


def _encode(value):
    return {"$bytes": value.hex()} if isinstance(value, bytes) else value


def _decode(value):
    return bytes.fromhex(value["$bytes"]) if isinstance(value, dict) else value


class ResultCache:
    """Lookups never raise: a cache that cannot be read or written just misses."""

    def __init__(self, directory: Path | None = None):
        directory = directory if directory is not None else cache_dir()
        self.conn = None
        if directory is None:
            return
        try:
            directory.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(directory / "scoring.sqlite", timeout=30, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")  # several workers read and write at once
            self.conn.execute("PRAGMA synchronous=NORMAL")  # no fsync per insert: losing a cache entry is harmless
            self.conn.executescript(_SCHEMA)
        except (OSError, sqlite3.Error):
            self.conn = None

    def _get(self, sql: str, key: str):
        if self.conn is None:
            return None
        try:
            row = self.conn.execute(sql, (key,)).fetchone()
        except sqlite3.Error:
            return None
        return row[0] if row else None

    def _put(self, sql: str, *values) -> None:
        if self.conn is not None:
            try:
                self.conn.execute(sql, values)
            except sqlite3.Error:
                pass

    def gold_key(self, db_path: str, gold_sql: str, limits) -> str | None:
        """None when there is no cache or no such file (the executor reports that one)."""
        if self.conn is None:
            return None
        try:
            digest = file_sha256(db_path)
        except OSError:
            return None
        return json.dumps([digest, gold_sql, limits.timeout_s, limits.max_rows, limits.max_value_bytes])

    def get_gold(self, key: str) -> list[tuple] | None:
        text = self._get("SELECT rows FROM gold WHERE key = ?", key)
        return None if text is None else [tuple(_decode(v) for v in row) for row in json.loads(text)]

    def put_gold(self, key: str, rows: list[tuple]) -> None:
        self._put(
            "INSERT OR REPLACE INTO gold VALUES (?, ?)", key, json.dumps([[_encode(v) for v in r] for r in rows])
        )

    def get_hardness(self, sql: str) -> str | None:
        return self._get("SELECT level FROM hardness WHERE sql = ?", sql)

    def put_hardness(self, sql: str, level: str) -> None:
        self._put("INSERT OR REPLACE INTO hardness VALUES (?, ?)", sql, level)


_shared: ResultCache | None = None


def shared_cache() -> ResultCache:
    global _shared
    if _shared is None:
        _shared = ResultCache()
    return _shared
