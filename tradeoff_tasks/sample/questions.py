"""Question/SQL pairs for the sample databases, from templates over each table's columns.

The constants in the questions (thresholds, category values) are read from the generated rows, so the
questions have non-trivial answers; build.py executes every query and refuses a sample where one fails.
"""

from __future__ import annotations

import random
from statistics import median

from .schemas import CATEGORIES, SCHEMAS

_PLURAL = {"aircraft": "aircraft", "enrollment": "enrollments"}


def _plural(table: str) -> str:
    return _PLURAL.get(table, table + "s")


def _words(column: str) -> str:
    return column.replace("_", " ")


def _table_questions(table, columns, primary, rows, rng) -> list[tuple[str, str]]:
    names = [c for c, _, _ in columns]
    label = next((c for c in ("name", "title") if c in names), primary)
    category = next((c for c in names if (table, c) in CATEGORIES), None)
    numbers = [
        c for c, _, spider_type in columns if spider_type == "number" and c != primary and not c.endswith("_id")
    ]
    many = _plural(table)
    qs = [(f"How many {many} are there?", f"SELECT count(*) FROM {table}")]
    for num in numbers[:2]:
        values = sorted(row[names.index(num)] for row in rows)
        mid, low, high = median(values), values[len(values) // 4], values[3 * len(values) // 4]
        mid = int(mid)
        w = _words(num)
        qs += [
            (
                f"List the {_words(label)} of all {many} whose {w} is greater than {mid}.",
                f"SELECT {label} FROM {table} WHERE {num} > {mid}",
            ),
            (f"What is the average {w} of all {many}?", f"SELECT avg({num}) FROM {table}"),
            (f"What are the maximum and minimum {w} across {many}?", f"SELECT max({num}), min({num}) FROM {table}"),
            (
                f"List the {_words(label)} of {many} in descending order of {w}.",
                f"SELECT {label} FROM {table} ORDER BY {num} DESC",
            ),
            (
                f"Which of the {many} has the largest {w}? Give its {_words(label)}.",
                f"SELECT {label} FROM {table} ORDER BY {num} DESC LIMIT 1",
            ),
            (
                f"List the {_words(label)} of {many} whose {w} is between {int(low)} and {int(high)}.",
                f"SELECT {label} FROM {table} WHERE {num} BETWEEN {int(low)} AND {int(high)}",
            ),
            (
                f"List the {_words(label)} of {many} whose {w} is above the average {w}.",
                f"SELECT {label} FROM {table} WHERE {num} > (SELECT avg({num}) FROM {table})",
            ),
        ]
    if category:
        w, value, other = _words(category), *rng.sample(CATEGORIES[(table, category)], 2)
        qs += [
            (f"How many {many} have {w} '{value}'?", f"SELECT count(*) FROM {table} WHERE {category} = '{value}'"),
            (
                f"Show each {w} and the number of {many} with it.",
                f"SELECT {category}, count(*) FROM {table} GROUP BY {category}",
            ),
            (
                f"Which {w} is the most common among {many}?",
                f"SELECT {category} FROM {table} GROUP BY {category} ORDER BY count(*) DESC LIMIT 1",
            ),
            (
                f"Which {w} values are shared by more than 2 {many}?",
                f"SELECT {category} FROM {table} GROUP BY {category} HAVING count(*) > 2",
            ),
            (f"List the different {w} values of the {many}.", f"SELECT DISTINCT {category} FROM {table}"),
            (
                f"List the {_words(label)} of {many} whose {w} is '{value}' or '{other}'.",
                f"SELECT {label} FROM {table} WHERE {category} = '{value}' OR {category} = '{other}'",
            ),
        ]
        if numbers:
            num = numbers[0]
            qs.append(
                (
                    f"What is the average {_words(num)} of {many} for each {w}?",
                    f"SELECT {category}, avg({num}) FROM {table} GROUP BY {category}",
                )
            )
    return qs


def _join_questions(child, parent, fk, parent_key, schema, rows) -> list[tuple[str, str]]:
    parent_cols = [c for c, _, _ in schema[parent][0]]
    child_cols = [c for c, _, spider_type in schema[child][0] if spider_type == "number"]
    label = next((c for c in ("name", "title") if c in parent_cols), parent_key)
    child_num = next((c for c in child_cols if not c.endswith("_id")), None)
    kids, parents = _plural(child), _plural(parent)
    qs = [
        (
            f"For each of the {kids}, show the {_words(label)} of its {parent}.",
            f"SELECT T2.{label} FROM {child} AS T1 JOIN {parent} AS T2 ON T1.{fk} = T2.{parent_key}",
        ),
        (
            f"Show the {_words(label)} of each {parent} and the number of {kids} it has.",
            f"SELECT T2.{label}, count(*) FROM {child} AS T1 JOIN {parent} AS T2 ON T1.{fk} = T2.{parent_key} "
            f"GROUP BY T1.{fk}",
        ),
        (
            f"Which {parent} has the most {kids}? Give its {_words(label)}.",
            f"SELECT T2.{label} FROM {child} AS T1 JOIN {parent} AS T2 ON T1.{fk} = T2.{parent_key} "
            f"GROUP BY T1.{fk} ORDER BY count(*) DESC LIMIT 1",
        ),
        (
            f"List the {_words(label)} of {parents} that have no {kids}.",
            f"SELECT {label} FROM {parent} WHERE {parent_key} NOT IN (SELECT {fk} FROM {child})",
        ),
    ]
    if child_num:
        values = sorted(r[[c for c, _, _ in schema[child][0]].index(child_num)] for r in rows[child])
        cut = int(values[len(values) * 3 // 4])
        qs += [
            (
                f"What is the total {_words(child_num)} of the {kids} of each {parent}? Show the {_words(label)} too.",
                f"SELECT T2.{label}, sum(T1.{child_num}) FROM {child} AS T1 JOIN {parent} AS T2 "
                f"ON T1.{fk} = T2.{parent_key} GROUP BY T1.{fk}",
            ),
            (
                f"List the distinct {_words(label)} of {parents} with a {child} whose {_words(child_num)} exceeds {cut}.",
                f"SELECT DISTINCT T2.{label} FROM {child} AS T1 JOIN {parent} AS T2 ON T1.{fk} = T2.{parent_key} "
                f"WHERE T1.{child_num} > {cut}",
            ),
        ]
    return qs


def questions_for(db_id: str, rows: dict[str, list[tuple]]) -> list[dict]:
    rng = random.Random(f"questions-{db_id}")
    schema = {name: (columns, primary, foreign) for name, columns, primary, foreign in SCHEMAS[db_id]}
    pairs = []
    for name, (columns, primary, foreign) in schema.items():
        pairs += _table_questions(name, columns, primary, rows[name], rng)
        for fk, parent, parent_key in foreign:
            pairs += _join_questions(name, parent, fk, parent_key, schema, rows)
    return [{"db_id": db_id, "question": q, "query": sql} for q, sql in pairs]
