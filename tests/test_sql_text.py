import pytest

from tradeoff_tasks.sql_text import (
    clean_model_output,
    first_statement,
    join_split_operators,
    normalise_for_execution,
    order_matters,
    remove_distinct,
)


def test_first_statement_ignores_semicolons_in_strings_and_comments():
    assert first_statement("SELECT 'a;b' FROM t; DROP TABLE t") == "SELECT 'a;b' FROM t"
    assert first_statement("SELECT 1 -- ; not here\n; SELECT 2") == "SELECT 1 -- ; not here"
    assert first_statement("SELECT 1") == "SELECT 1"


def test_first_statement_keeps_a_nul_character_for_the_executor_to_refuse():
    assert first_statement("SELECT 'a;\x00b' FROM t; SELECT 2") == "SELECT 'a;\x00b' FROM t"
    assert first_statement("SELECT\x00 1") == "SELECT\x00 1"


def test_remove_distinct_keeps_quoted_text_and_identifiers():
    assert remove_distinct("SELECT DISTINCT name FROM t") == "SELECT  name FROM t"
    assert remove_distinct("SELECT count(distinct x) FROM t") == "SELECT count( x) FROM t"
    assert remove_distinct("SELECT * FROM t WHERE a = 'distinct'") == "SELECT * FROM t WHERE a = 'distinct'"
    assert remove_distinct('SELECT "distinct" FROM t') == 'SELECT "distinct" FROM t'
    assert remove_distinct("SELECT distinction FROM t") == "SELECT distinction FROM t"


def test_split_operators_are_joined():
    assert join_split_operators("a > = 1 AND b < = 2 AND c ! = 3") == "a >= 1 AND b <= 2 AND c != 3"


def test_normalisation_respects_keep_distinct():
    assert normalise_for_execution("SELECT DISTINCT a FROM t;", keep_distinct=True) == "SELECT DISTINCT a FROM t"
    assert "DISTINCT" not in normalise_for_execution("SELECT DISTINCT a FROM t")


@pytest.mark.parametrize(
    "gold, expected",
    [
        ("SELECT a FROM t ORDER BY a", True),
        ("select a from t order   by a", False),  # the official rule is a plain substring test
        ("SELECT a FROM t WHERE b = 'ORDER BY'", True),
        ("SELECT a FROM t", False),
    ],
)
def test_order_matters_is_the_official_substring_rule(gold, expected):
    assert order_matters(gold) is expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("```sql\nSELECT a FROM t;\n```\nThis returns a.", "SELECT a FROM t"),
        ("```\nSELECT a FROM t\n```", "SELECT a FROM t"),
        ("SQL: SELECT a FROM t", "SELECT a FROM t"),
        ("Here is the query with a join:\nSELECT a FROM t JOIN u", "SELECT a FROM t JOIN u"),
        ("WITH x AS (SELECT 1) SELECT * FROM x; SELECT 2", "WITH x AS (SELECT 1) SELECT * FROM x"),
        ("  SELECT a\nFROM t  ", "SELECT a\nFROM t"),
        ("I do not know.", "I do not know."),
        ("```sql\nSELECT a FROM t", "SELECT a FROM t"),  # generation stopped before the closing fence
    ],
)
def test_clean_model_output(raw, expected):
    assert clean_model_output(raw) == expected
