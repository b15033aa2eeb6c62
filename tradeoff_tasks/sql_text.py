"""Pure text operations on SQL strings: statement splitting, Spider's normalisations, model-output cleanup.

No database access and no lm-eval import here, so the scorer CLI, the worker processes and the task share it.
"""

from __future__ import annotations

import re
import sqlite3

# Quoted strings and identifiers first, so that the keyword branch never matches inside them.
_QUOTED = r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`[^`]*`|\[[^\]]*\]"
_DISTINCT = re.compile(rf"({_QUOTED})|\bdistinct\b", re.IGNORECASE)
_FENCE = re.compile(r"```[ \t]*(?:sql|sqlite)?[ \t]*\n?(.*?)(?:```|\Z)", re.IGNORECASE | re.DOTALL)
_LABEL = re.compile(r"^\s*(?:sql(?:ite)?\s+query|sql|query|answer)\s*:\s*", re.IGNORECASE)
# A CTE must look like one ("WITH name AS ("), so that prose such as "a query with a join" is not taken for SQL.
_STATEMENT_START = re.compile(
    r"\bselect\b|\bwith\s+(?:recursive\s+)?[\w\"`\[\]]+\s*(?:\([^)]*\)\s*)?as\s*\(", re.IGNORECASE
)


def first_statement(sql: str) -> str:
    """The first complete statement, without its terminating semicolon.

    Uses SQLite's own tokenizer (sqlite3.complete_statement) so that a ';' inside a string literal or a
    comment does not split the statement.
    """
    probe = sql.replace("\0", " ")  # complete_statement refuses a NUL; no SQL token contains one
    for match in re.finditer(";", probe):
        if sqlite3.complete_statement(probe[: match.end()]):
            return sql[: match.end() - 1].strip()
    return sql.strip()


def remove_distinct(sql: str) -> str:
    """Drop the keyword DISTINCT outside quotes, as the official test-suite evaluator does by default."""
    return _DISTINCT.sub(lambda m: m.group(1) or "", sql)


def join_split_operators(sql: str) -> str:
    """The official evaluator rejoins comparison operators that tokenisation split ('> =' -> '>=')."""
    return sql.replace("> =", ">=").replace("< =", "<=").replace("! =", "!=")


def normalise_for_execution(sql: str, keep_distinct: bool = False) -> str:
    """What both gold and prediction go through before execution (official exec-mode semantics)."""
    sql = join_split_operators(first_statement(sql))
    return sql if keep_distinct else remove_distinct(sql)


def order_matters(gold_sql: str) -> bool:
    """Row order is compared iff the gold query contains 'order by' anywhere (the official rule)."""
    return "order by" in gold_sql.lower()


def clean_model_output(text: str) -> str:
    """Turn a raw generation into one SQL statement.

    Keeps the body of the first code fence if there is one, drops a leading 'SQL:'-style label or prose
    before the first SELECT/WITH, and keeps the first statement. Text without SQL comes back stripped, so
    that it fails to execute and is counted as an execution error rather than silently dropped.
    """
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1)
    text = _LABEL.sub("", text)
    start = _STATEMENT_START.search(text)
    if start:
        text = text[start.start() :]
    return first_statement(text).strip()


# spider_exec stops generation only at ";" (lm-eval checks every stop string at every decode step, which is
# costly); the text after these is cut afterwards instead, in turn, as lm-eval's own post-processing cuts it.
TEXT_STOPS = ("\n\n\n", "###")


def cut_at_text_stops(text: str) -> str:
    for stop in TEXT_STOPS:
        text = text.split(stop)[0]
    return text


def clean_generation(text: str) -> str:
    """A raw generation as it is scored, by the spider_exec task and by spider-exec-score alike."""
    return clean_model_output(cut_at_text_stops(text))
