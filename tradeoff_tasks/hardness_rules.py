"""Spider's hardness levels (easy / medium / hard / extra), with the published rules on a real SQL parser.

The rules are those of Spider's evaluation.py (count_component1, count_component2, count_others,
eval_hardness), applied to the leftmost SELECT of the query as Spider's own parser sees it. Two quirks
of the original are kept on purpose, because the published per-level numbers depend on them:
a negated condition (NOT IN / NOT LIKE / NOT BETWEEN) counts as an aggregation in WHERE and HAVING, and
each AND/OR between HAVING conditions counts as an aggregation too.
"""

from __future__ import annotations

from functools import cache

import sqlglot
from sqlglot import exp

_SPIDER_AGGREGATES = (exp.Max, exp.Min, exp.Count, exp.Sum, exp.Avg)


def _leftmost_select(node: exp.Expression) -> tuple[exp.Select, bool]:
    """The SELECT that Spider's parser treats as the query, and whether a set operation follows it."""
    has_set_op = False
    while isinstance(node, (exp.SetOperation, exp.Subquery, exp.Paren)):
        has_set_op |= isinstance(node, exp.SetOperation)
        node = node.this
    if not isinstance(node, exp.Select):
        raise ValueError(f"not a SELECT query: {node.sql()[:80]}")
    return node, has_set_op


def _conditions(clause: exp.Expression | None) -> tuple[list[exp.Expression], list[str]]:
    """Flatten a WHERE/HAVING tree left to right into conditions and the 'and'/'or' between them."""
    if clause is None:
        return [], []
    node = clause.this if isinstance(clause, (exp.Where, exp.Having)) else clause
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, (exp.And, exp.Or)):
        left_conds, left_ops = _conditions(node.this)
        right_conds, right_ops = _conditions(node.expression)
        return left_conds + right_conds, left_ops + ["and" if isinstance(node, exp.And) else "or"] + right_ops
    return [node], []


def _negated(cond: exp.Expression) -> bool:
    return isinstance(cond, exp.Not) or bool(cond.args.get("negate"))


def _unnegated(cond: exp.Expression) -> exp.Expression:
    return cond.this if isinstance(cond, exp.Not) else cond


def _starts_with_aggregate(node: exp.Expression | None) -> bool:
    """Spider reads an aggregate only at the start of a value unit: 'max(a) - min(a)' counts once."""
    while isinstance(node, (exp.Alias, exp.Paren, exp.Add, exp.Sub, exp.Mul, exp.Div)):
        node = node.this
    return isinstance(node, _SPIDER_AGGREGATES)


def _value_unit_aggregates(node: exp.Expression) -> int:
    """ORDER BY units count the aggregates of both operands of one arithmetic operator."""
    node = node.this if isinstance(node, exp.Ordered) else node
    if isinstance(node, (exp.Add, exp.Sub, exp.Mul, exp.Div)):
        return int(_starts_with_aggregate(node.this)) + int(_starts_with_aggregate(node.expression))
    return int(_starts_with_aggregate(node))


def _nested_queries(cond: exp.Expression) -> int:
    """Subqueries used as the value(s) of one condition (Spider's val1/val2 being SQL)."""
    cond = _unnegated(cond)
    operands = [cond.args.get(k) for k in ("expression", "query", "low", "high")]
    return sum(isinstance(o, (exp.Subquery, exp.Select)) for o in operands)


def _component_counts(select: exp.Select, has_set_op: bool) -> tuple[int, int, int]:
    where_conds, where_ops = _conditions(select.args.get("where"))
    having_conds, having_ops = _conditions(select.args.get("having"))
    group = select.args.get("group")
    group_by = group.expressions if group else []
    order = select.args.get("order")
    order_by = order.expressions if order else []
    n_tables = int(select.args.get("from_") is not None or select.args.get("from") is not None) + len(
        select.args.get("joins") or []
    )

    comp1 = sum(bool(x) for x in (where_conds, group_by, order_by, select.args.get("limit")))
    comp1 += max(n_tables - 1, 0)
    comp1 += (where_ops + having_ops).count("or")
    comp1 += sum(isinstance(_unnegated(c), (exp.Like, exp.ILike)) for c in where_conds + having_conds)

    join_conds = [c for j in select.args.get("joins") or [] for c in _conditions(j.args.get("on"))[0]]
    comp2 = sum(_nested_queries(c) for c in join_conds + where_conds + having_conds) + int(has_set_op)

    aggregates = sum(_starts_with_aggregate(e) for e in select.expressions)
    aggregates += sum(_negated(c) for c in where_conds)
    aggregates += sum(_starts_with_aggregate(e) for e in group_by)
    aggregates += sum(_value_unit_aggregates(e) for e in order_by)
    aggregates += sum(_negated(c) for c in having_conds) + len(having_ops)
    others = sum((aggregates > 1, len(select.expressions) > 1, len(where_conds) > 1, len(group_by) > 1))
    return comp1, comp2, others


@cache
def hardness(sql: str) -> str:
    """Spider hardness of a (gold) SQL query; raises ValueError if it cannot be parsed as a SELECT."""
    try:
        tree = sqlglot.parse_one(sql, read="sqlite")
    except sqlglot.errors.SqlglotError as e:
        raise ValueError(f"cannot parse SQL: {e}") from None
    comp1, comp2, others = _component_counts(*_leftmost_select(tree))
    if comp1 <= 1 and others == 0 and comp2 == 0:
        return "easy"
    if (others <= 2 and comp1 <= 1 and comp2 == 0) or (comp1 <= 2 and others < 2 and comp2 == 0):
        return "medium"
    if (
        (others > 2 and comp1 <= 2 and comp2 == 0)
        or (2 < comp1 <= 3 and others <= 2 and comp2 == 0)
        or (comp1 <= 1 and others == 0 and comp2 <= 1)
    ):
        return "hard"
    return "extra"
