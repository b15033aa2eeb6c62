"""The on-disk cache of gold results and hardness levels: reused across processes, never stale, optional."""

import sqlite3

import pytest

from tradeoff_tasks import hardness as hardness_module
from tradeoff_tasks.cache import ResultCache
from tradeoff_tasks.executor import Limits
from tradeoff_tasks.pool import WorkerPool
from tradeoff_tasks.scoring import PairScorer

GOLD = "SELECT id, name, price, blob FROM item ORDER BY id"


@pytest.fixture
def database(tmp_path):
    path = tmp_path / "db" / "shop.sqlite"
    path.parent.mkdir()
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT, price REAL, blob BLOB)")
    conn.executemany(
        "INSERT INTO item VALUES (?, ?, ?, ?)",
        [(i, f"item {i}", i / 3, bytes([i, 0, 255])) for i in range(20)] + [(99, None, float("inf"), None)],
    )
    conn.commit()
    conn.close()
    return path


def _cached_gold(cache_dir):
    with sqlite3.connect(cache_dir / "scoring.sqlite") as conn:
        return conn.execute("SELECT count(*) FROM gold").fetchone()[0]


def test_gold_rows_round_trip_exactly_and_are_reused_by_a_fresh_scorer(database, tmp_path):
    cache = ResultCache(tmp_path / "cache")
    first = PairScorer(Limits(), cache)
    executed = first._gold(str(database), GOLD)
    assert _cached_gold(tmp_path / "cache") == 1
    key = cache.gold_key(str(database), GOLD, Limits())
    assert cache.get_gold(key) == executed  # ints, floats (1/3, inf), text, bytes and NULL unchanged
    assert [type(v) for v in cache.get_gold(key)[1]] == [int, str, float, bytes]

    class NoDatabase(PairScorer):  # a second scorer must answer the gold query without executing it
        def _database(self, path):
            if path == str(database) and self.limits == Limits():
                raise AssertionError("gold was executed again")
            return super()._database(path)

    assert NoDatabase(Limits(), ResultCache(tmp_path / "cache"))._gold(str(database), GOLD) == executed


def test_a_changed_database_or_other_limits_never_reuse_a_stale_result(database, tmp_path):
    cache_dir = tmp_path / "cache"
    before = PairScorer(Limits(), ResultCache(cache_dir))._gold(str(database), GOLD)
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE item SET name = 'changed' WHERE id = 1")
    after = PairScorer(Limits(), ResultCache(cache_dir))._gold(str(database), GOLD)
    assert after[1][1] == "changed" and before[1][1] == "item 1"
    PairScorer(Limits(max_rows=5), ResultCache(cache_dir))._gold(str(database), GOLD)  # too many rows: an error
    assert _cached_gold(cache_dir) == 2  # errors are not cached


def test_workers_share_the_cache_across_pools(database, tmp_path, monkeypatch):
    monkeypatch.setenv("TRADEOFF_CACHE_DIR", str(tmp_path / "cache"))
    task = {
        "db": str(database),
        "gold": GOLD,
        "prediction": GOLD,
        "keep_distinct": False,
        "timeout": 5,
        "max_rows": 1000,
    }
    pool = WorkerPool(n_workers=2)
    try:
        assert [r["exec_match"] for r in pool.run([task] * 4)] == [1] * 4
    finally:
        pool.close()
    assert _cached_gold(tmp_path / "cache") == 1


def test_without_a_cache_scoring_still_works(database, monkeypatch):
    monkeypatch.setenv("TRADEOFF_CACHE_DIR", "off")
    cache = ResultCache()
    assert cache.conn is None and cache.gold_key(str(database), GOLD, Limits()) is None
    assert PairScorer(Limits(), cache).score(str(database), GOLD, GOLD)["exec_match"] == 1


def test_hardness_is_parsed_once_then_read_from_the_cache(tmp_path, monkeypatch):
    cache = ResultCache(tmp_path / "cache")
    monkeypatch.setattr(hardness_module, "shared_cache", lambda: cache)
    sql = "SELECT count(*) FROM singer WHERE age > 20"
    assert hardness_module.hardness_or_unknown(sql) == "easy"
    assert hardness_module.hardness_or_unknown("SELEC nonsense") == "unknown"

    def no_parsing(sql):
        raise AssertionError("parsed again")

    import tradeoff_tasks.hardness_rules

    monkeypatch.setattr(tradeoff_tasks.hardness_rules, "hardness", no_parsing)
    assert hardness_module.hardness_or_unknown(sql) == "easy"
    assert hardness_module.hardness_or_unknown("SELEC nonsense") == "unknown"
