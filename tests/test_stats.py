import numpy as np
import pytest

from tradeoff.plots import pareto_front
from tradeoff.stats import bootstrap_ci, mcnemar_exact, paired_bootstrap_ci, sign_flip_p


def test_a_constant_difference_has_a_zero_width_interval():
    base = np.random.default_rng(1).normal(size=500)
    delta, low, high = paired_bootstrap_ci(base + 0.25, base)
    assert delta == pytest.approx(0.25) and low == pytest.approx(0.25) and high == pytest.approx(0.25)


def test_interval_brackets_the_estimate_and_narrows_with_more_questions():
    rng = np.random.default_rng(2)
    widths = []
    for n in (200, 5000):
        base = (rng.random(n) < 0.5).astype(float)
        model = np.where(rng.random(n) < 0.2, 1 - base, base)  # flips 20% of answers
        delta, low, high = paired_bootstrap_ci(model, base)
        assert low <= delta <= high
        widths.append(high - low)
    assert widths[1] < widths[0] / 3  # ~ 1/sqrt(n): sqrt(25) = 5


def test_single_model_interval():
    low, high = bootstrap_ci(np.array([1.0] * 30 + [0.0] * 70))
    assert low < 0.3 < high


def test_mcnemar_exact_values():
    base, model = np.zeros(10), np.ones(10)
    assert mcnemar_exact(model, base) == {"gained": 10, "lost": 0, "p_value": pytest.approx(2 * 0.5**10)}
    balanced = mcnemar_exact(np.array([1, 1, 0, 0]), np.array([0, 0, 1, 1]))
    assert balanced["p_value"] == pytest.approx(1.0)
    assert mcnemar_exact(np.ones(5), np.ones(5))["p_value"] == 1.0


def test_the_sign_flip_test_is_mcnemar_for_one_model_and_sees_a_loss_of_the_seeds_average():
    rng = np.random.default_rng(1)
    base = (rng.random(300) < 0.5).astype(float)
    one = np.where(rng.random(300) < 0.1, 1 - base, base)  # 0/1 scores of one model
    assert sign_flip_p(one, base) == mcnemar_exact(one, base)["p_value"]
    # three seeds, each losing other questions: their average is stronger evidence of a loss than any one seed
    seeds = [np.where((base == 1) & (rng.random(300) < 0.05), 0.0, base) for _ in range(3)]
    per_seed = [mcnemar_exact(seed, base)["p_value"] for seed in seeds]
    assert sign_flip_p(np.mean(seeds, axis=0), base) < min(per_seed)
    assert sign_flip_p(np.mean(seeds, axis=0), base, resamples=999) == pytest.approx(1 / 1000)  # its floor
    alternating = np.array([1.0, 0.0] * 50)
    assert sign_flip_p(np.full(100, 0.5), alternating) == 1.0  # gains and losses of the same size cancel


def test_pareto_front_drops_dominated_points():
    points = [(0.5, 0.1, "base"), (0.45, 0.3, "a"), (0.44, 0.2, "b"), (0.3, 0.35, "c")]
    assert [p[2] for p in pareto_front(points)] == ["c", "a", "base"]
