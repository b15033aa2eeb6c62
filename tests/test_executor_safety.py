"""The executor is the security boundary: model output is untrusted code."""

import hashlib
import sqlite3
import time

import pytest

from tradeoff_tasks.executor import Limits, QueryError, ReadOnlyDatabase
from tradeoff_tasks.pool import WorkerPool


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "db" / "shop.sqlite"
    path.parent.mkdir()
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT, price REAL)")
    conn.executemany("INSERT INTO item VALUES (?, ?, ?)", [(i, f"item {i}", i * 1.5) for i in range(50)])
    conn.commit()
    conn.close()
    return path


def _fingerprint(directory):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in directory.iterdir()}


ATTACKS = [
    "INSERT INTO item VALUES (100, 'x', 1)",
    "UPDATE item SET price = 0",
    "DELETE FROM item",
    "DROP TABLE item",
    "CREATE TABLE evil (x)",
    "ALTER TABLE item ADD COLUMN y",
    "WITH x AS (SELECT 1) DELETE FROM item",
    "WITH x AS (SELECT 1) INSERT INTO item SELECT 200, 'y', 2 FROM x",
    "ATTACH DATABASE '{dir}/evil.sqlite' AS evil",
    "DETACH DATABASE main",
    "VACUUM",
    "VACUUM INTO '{dir}/copy.sqlite'",
    "PRAGMA journal_mode = WAL",
    "PRAGMA user_version = 7",
    "REINDEX",
    "ANALYZE",
    "BEGIN IMMEDIATE",
    "SELECT load_extension('{dir}/evil.so')",
    "SELECT fts3_tokenizer('simple')",
    "SELECT writefile('{dir}/out.txt', 'x')",
    "SELECT readfile('/etc/passwd')",
    "SELECT 1; DROP TABLE item",
    "/* comment */ DROP TABLE item",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_writes_and_escapes_are_refused_without_touching_the_directory(database, attack):
    before = _fingerprint(database.parent)
    db = ReadOnlyDatabase(database)
    with pytest.raises(QueryError):
        db.query(attack.format(dir=database.parent))
    db.close()
    assert _fingerprint(database.parent) == before  # same files, same bytes: nothing created or changed


def test_reads_still_work(database):
    db = ReadOnlyDatabase(database)
    assert db.query("SELECT count(*) FROM item") == [(50,)]
    assert db.query("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 3) SELECT * FROM n") == [
        (1,),
        (2,),
        (3,),
    ]
    assert db.query("VALUES (1)") == [(1,)]


def test_runaway_recursive_cte_is_interrupted_at_the_deadline(database):
    db = ReadOnlyDatabase(database, Limits(timeout_s=0.5))
    start = time.monotonic()
    with pytest.raises(QueryError, match="timeout"):
        db.query("WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n")
    assert time.monotonic() - start < 2.0


@pytest.mark.parametrize(
    "query",
    [
        "SELECT zeroblob(2000000000)",
        "SELECT length(randomblob(2000000000))",
        "SELECT length(replace(hex(zeroblob(4000000)), '0', 'aaaaaaaaaa'))",
    ],
)
def test_two_gigabyte_values_are_refused_by_the_length_limit(database, query):
    db = ReadOnlyDatabase(database, Limits(timeout_s=5))
    start = time.monotonic()
    with pytest.raises(QueryError, match="too big"):
        db.query(query)
    assert time.monotonic() - start < 2.0


def test_row_cap(database):
    db = ReadOnlyDatabase(database, Limits(max_rows=10))
    with pytest.raises(QueryError, match="more than 10 rows"):
        db.query("SELECT * FROM item")


def _task(database, prediction, timeout=0.5):
    return {
        "db": str(database),
        "gold": "SELECT count(*) FROM item",
        "prediction": prediction,
        "keep_distinct": False,
        "timeout": timeout,
        "max_rows": 1000,
    }


def test_work_sqlite_cannot_interrupt_is_killed_and_the_pool_recovers(database):
    # Each printf of 2e9 characters is one VM step of seconds of C work that the progress handler
    # never sees; only the hard kill of the worker process stops it.
    uninterruptible = " || ".join(["printf('%.*c', 2000000000, 'x')"] * 5)
    pool = WorkerPool(n_workers=1)
    try:
        start = time.monotonic()
        killed, fine = pool.run([_task(database, f"SELECT {uninterruptible}"), _task(database, "SELECT 50")])
        elapsed = time.monotonic() - start
    finally:
        pool.close()
    assert killed["error"].startswith("timeout") and killed["exec_match"] == 0
    assert fine == {"exec_match": 1, "error": None, "gold_error": None, "gold_empty": 0}
    assert elapsed < 6.0  # 2 x 0.5 s + 1 s grace, then a fresh worker; the query alone would take >10 s


def test_pool_scores_in_input_order_with_several_workers(database):
    predictions = [f"SELECT {n}" for n in range(40, 60)]
    pool = WorkerPool(n_workers=3)
    try:
        results = pool.run([_task(database, p) for p in predictions])
    finally:
        pool.close()
    assert [r["exec_match"] for r in results] == [int(n == 50) for n in range(40, 60)]


def test_gold_failure_is_reported_separately(database):
    pool = WorkerPool(n_workers=1)
    try:
        [result] = pool.run([dict(_task(database, "SELECT 1"), gold="SELECT nope FROM item")])
    finally:
        pool.close()
    assert result["exec_match"] == 0 and result["error"] is None and "nope" in result["gold_error"]


def test_a_worker_that_died_while_idle_is_replaced(database):
    pool = WorkerPool(n_workers=1)
    try:
        assert pool.run([_task(database, "SELECT 50")])[0]["exec_match"] == 1
        pool._workers[0].kill()  # e.g. killed by the kernel between two tasks
        assert pool.run([_task(database, "SELECT 50"), _task(database, "SELECT 1")])[0]["exec_match"] == 1
    finally:
        pool.close()


def test_a_pair_that_breaks_the_scorer_is_that_pairs_error_and_the_worker_goes_on(database):
    pool = WorkerPool(n_workers=1)
    try:
        broken, fine = pool.run([_task(database, None), _task(database, "SELECT 50")])  # no prediction text at all
    finally:
        pool.close()
    assert broken["exec_match"] == 0 and broken["error"].startswith("scoring failed: ")
    assert fine["exec_match"] == 1 and fine["error"] is None
