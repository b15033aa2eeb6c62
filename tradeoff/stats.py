"""Paired statistics over per-question scores: bootstrap CIs of a difference, McNemar's exact test, and a paired
sign-flip permutation test for seed-averaged scores (which is McNemar's exact test for 0/1 scores)."""

from __future__ import annotations

import math

import numpy as np


def paired_bootstrap_ci(
    model: np.ndarray, base: np.ndarray, n_boot: int = 2000, seed: int = 0, level: float = 0.95
) -> tuple[float, float, float]:
    """Mean difference model - base and its percentile bootstrap CI, resampling questions (pairs kept)."""
    diff = np.asarray(model, dtype=float) - np.asarray(base, dtype=float)
    if diff.size == 0:
        return math.nan, math.nan, math.nan
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    chunk = max(1, 2_000_000 // diff.size)  # bound memory: chunk x n indices at a time
    for start in range(0, n_boot, chunk):
        stop = min(n_boot, start + chunk)
        idx = rng.integers(0, diff.size, size=(stop - start, diff.size))
        means[start:stop] = diff[idx].mean(axis=1)
    alpha = (1 - level) / 2
    return float(diff.mean()), float(np.quantile(means, alpha)), float(np.quantile(means, 1 - alpha))


def bootstrap_ci(scores: np.ndarray, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap CI of a mean (used for the error bars of single models)."""
    _, low, high = paired_bootstrap_ci(scores, np.zeros_like(np.asarray(scores, dtype=float)), n_boot, seed, level)
    return low, high


def mcnemar_exact(model: np.ndarray, base: np.ndarray) -> dict:
    """Exact two-sided McNemar test on the discordant pairs (binomial, p = 0.5)."""
    model, base = np.asarray(model) > 0.5, np.asarray(base) > 0.5
    gained = int(np.sum(model & ~base))
    lost = int(np.sum(~model & base))
    n = gained + lost
    if n == 0:
        return {"gained": 0, "lost": 0, "p_value": 1.0}
    k = min(gained, lost)
    log_terms = [
        math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) - n * math.log(2) for i in range(k + 1)
    ]
    top = max(log_terms)
    tail = math.exp(top) * sum(math.exp(t - top) for t in log_terms)
    return {"gained": gained, "lost": lost, "p_value": min(1.0, 2 * tail)}


def sign_flip_p(model: np.ndarray, base: np.ndarray, resamples: int = 10_000, seed: int = 0) -> float:
    """Two-sided p-value that the mean per-question change model - base is zero, from a paired sign-flip
    permutation test (each question's change keeps its size and gets a random sign). `model` may be a score
    averaged over seeds (values between 0 and 1); for 0/1 scores of one model the test is McNemar's, and its exact
    p-value is returned. Monte Carlo otherwise, so the smallest p is 1 / (resamples + 1)."""
    model, base = np.asarray(model, dtype=float), np.asarray(base, dtype=float)
    if np.all((model == 0) | (model == 1)):
        return mcnemar_exact(model, base)["p_value"]
    diff = (model - base)[model != base]
    observed = abs(diff.sum()) - 1e-9 * diff.size  # a flip that ties the observed sum counts as extreme
    rng = np.random.default_rng(seed)
    extreme = 0
    chunk = max(1, 2_000_000 // diff.size)  # bound memory: chunk x n signs at a time
    for start in range(0, resamples, chunk):
        signs = rng.choice((-1.0, 1.0), size=(min(chunk, resamples - start), diff.size))
        extreme += int(np.sum(np.abs(signs @ diff) >= observed))
    return (extreme + 1) / (resamples + 1)
