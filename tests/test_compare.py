from tradeoff_tasks.compare import results_match


def test_two_empty_results_match():
    assert results_match([], [], order_matters=True)


def test_row_and_column_counts_must_agree():
    assert not results_match([(1,)], [], order_matters=False)
    assert not results_match([(1,)], [(1,), (1,)], order_matters=False)
    assert not results_match([(1, 2)], [(1,)], order_matters=False)


def test_column_permutation_is_allowed():
    assert results_match([(1, "a"), (2, "b")], [("a", 1), ("b", 2)], order_matters=True)
    assert not results_match([(1, "a"), (2, "b")], [("b", 1), ("a", 2)], order_matters=False)


def test_order_only_counts_when_it_matters():
    gold, pred = [(1,), (2,)], [(2,), (1,)]
    assert results_match(gold, pred, order_matters=False)
    assert not results_match(gold, pred, order_matters=True)


def test_unordered_comparison_is_a_multiset_not_a_set():
    assert not results_match([(1,), (1,), (2,)], [(1,), (2,), (2,)], order_matters=False)


def test_values_use_python_equality():
    assert results_match([(6,)], [(6.0,)], order_matters=False)
    assert not results_match([("6",)], [(6,)], order_matters=False)
    assert results_match([(None,)], [(None,)], order_matters=False)
    assert not results_match([(0.1 + 0.2,)], [(0.3,)], order_matters=False)  # no float tolerance
    assert not results_match([("Abc",)], [("abc",)], order_matters=False)  # no case folding


def test_permutation_search_handles_columns_with_equal_multisets():
    gold = [(1, 2, 1), (2, 1, 2)]
    pred = [(1, 1, 2), (2, 2, 1)]  # gold columns (0,1,2) <- pred columns (0,2,1)
    assert results_match(gold, pred, order_matters=True)
    assert not results_match(gold, [(1, 1, 2), (1, 2, 2)], order_matters=False)
