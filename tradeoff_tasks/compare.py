"""Result comparison with the semantics of the official test-suite-sql-eval (execution mode).

Two results match when both are empty, or when they have the same numbers of rows and columns and some
permutation of the prediction's columns makes the rows equal: as a list when order matters, as a multiset
otherwise. Values compare with Python equality (6 == 6.0, '6' != 6, None == None), no tolerance.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence

Row = tuple


def results_match(gold: Sequence[Row], pred: Sequence[Row], order_matters: bool) -> bool:
    if not gold and not pred:
        return True
    if len(gold) != len(pred):
        return False
    n_cols = len(gold[0])
    if any(len(row) != n_cols for row in pred):
        return False
    gold_rows = [tuple(row) for row in gold]
    gold_multiset = None if order_matters else Counter(gold_rows)
    for perm in _column_permutations(gold_rows, pred, n_cols):
        permuted = [tuple(row[j] for j in perm) for row in pred]
        if order_matters:
            if permuted == gold_rows:
                return True
        elif Counter(permuted) == gold_multiset:
            return True
    return False


def _column_permutations(gold: list[Row], pred: Sequence[Row], n_cols: int) -> Iterator[tuple[int, ...]]:
    """Yield the assignments gold column i <- pred column perm[i] whose column value multisets agree.

    Any row permutation keeps each column's multiset, so only such assignments can make the rows equal;
    pruning by them keeps wide results cheap (the official evaluator prunes with sampled rows instead).
    """
    gold_cols = [Counter(row[i] for row in gold) for i in range(n_cols)]
    pred_cols = [Counter(row[j] for row in pred) for j in range(n_cols)]
    candidates = [[j for j in range(n_cols) if pred_cols[j] == gold_cols[i]] for i in range(n_cols)]

    def extend(prefix: list[int], used: set[int]) -> Iterator[tuple[int, ...]]:
        i = len(prefix)
        if i == n_cols:
            yield tuple(prefix)
            return
        for j in candidates[i]:
            if j not in used:
                used.add(j)
                prefix.append(j)
                yield from extend(prefix, used)
                prefix.pop()
                used.discard(j)

    yield from extend([], set())
