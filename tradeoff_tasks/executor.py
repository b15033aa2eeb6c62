"""Read-only SQLite execution of untrusted SQL, inside one process.

This is one half of the security boundary; the other half (a separate process per worker with a hard kill
and a memory rlimit) is in pool.py. Layers, each enough on its own for its threat:
- the database is opened read-only and immutable (no journal, no lock files, no writes possible);
- a lexical gate: the statement must start with SELECT, WITH or VALUES (blocks VACUUM INTO, PRAGMA, ATTACH);
- an authorizer that allows only reads, selects, recursive CTEs and functions not on a deny list;
- SQLite limits on string/blob length (a huge printf/zeroblob fails at once), SQL length and attachments;
- a progress handler that interrupts the VM at the deadline, and a cap on returned rows.
"""

from __future__ import annotations

import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

DENIED_FUNCTIONS = frozenset(
    {
        "load_extension",
        "fts3_tokenizer",
        "readfile",
        "writefile",
        "edit",
        "fsdir",
        "zipfile",
        "sqlar_compress",
        "sqlar_uncompress",
        "sqlite_dbpage",
        "shell_add_schema",
        "shell_escape_crnl",
    }
)
_ALLOWED_ACTIONS = frozenset({sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE})
_QUERY_START = re.compile(r"^(?:\s|--[^\n]*\n|/\*.*?\*/|\()*(select|with|values)\b", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 10.0
    max_rows: int = 100_000
    max_value_bytes: int = 10_000_000  # SQLITE_LIMIT_LENGTH: longest string or blob any expression may build
    max_sql_chars: int = 100_000


class QueryError(Exception):
    """A query that was refused or failed; str(e) is a short reason for the output files."""


def _authorize(action, arg1, arg2, _db_name, _trigger):
    if action in _ALLOWED_ACTIONS:
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() not in DENIED_FUNCTIONS:
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


class ReadOnlyDatabase:
    """One immutable, read-only connection to a Spider database, reused for many queries."""

    def __init__(self, path: str | Path, limits: Limits = Limits()):
        path = Path(path).resolve()
        if not path.is_file():  # connect() in ro mode would fail too, but with a less useful message
            raise QueryError(f"database missing: {path}")
        self.limits = limits
        self._deadline = 0.0
        self.conn = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        # Spider has a few non-UTF-8 text cells; the official evaluator decodes them the same way.
        self.conn.text_factory = lambda raw: raw.decode(errors="ignore")
        self.conn.execute("PRAGMA temp_store = MEMORY")  # big sorts must not spill into temp files
        self.conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, limits.max_value_bytes)
        self.conn.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, limits.max_sql_chars)
        self.conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        self.conn.set_authorizer(_authorize)
        self.conn.set_progress_handler(self._past_deadline, 1000)

    def _past_deadline(self) -> int:
        return int(time.monotonic() > self._deadline)

    def query(self, sql: str) -> list[tuple]:
        if not _QUERY_START.match(sql):
            raise QueryError("not a query: only SELECT, WITH or VALUES statements are executed")
        self._deadline = time.monotonic() + self.limits.timeout_s
        try:
            cursor = self.conn.execute(sql)
            rows = cursor.fetchmany(self.limits.max_rows + 1)
        except sqlite3.Error as e:
            if time.monotonic() > self._deadline:
                raise QueryError(f"timeout after {self.limits.timeout_s:g} s") from None
            raise QueryError(f"{type(e).__name__}: {e}") from None
        except (OverflowError, MemoryError, ValueError) as e:
            raise QueryError(f"{type(e).__name__}: {e}") from None
        if len(rows) > self.limits.max_rows:
            raise QueryError(f"result has more than {self.limits.max_rows} rows")
        return rows

    def close(self) -> None:
        self.conn.close()
