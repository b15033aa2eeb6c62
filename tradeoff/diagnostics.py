"""What a headline number can hide, per model: which answer letters an MMLU model picks and what those letter
frequencies alone would score; how many Spider predictions execute at all; and whether a probe's base score
is far enough above chance that the probe can show a loss at all.

A model that always answers "A" scores the share of "A" answers, about 25% on MMLU. So MMLU can only show that
fine-tuning cost something when the base model is clearly better than its own letter habits: the lower end of
its 95% CI above both chance and the accuracy its letter frequencies alone would give.
"""

from __future__ import annotations

import numpy as np

from tradeoff.stats import bootstrap_ci

MMLU_CHANCE = 0.25
LETTERS = "ABCD"


def mmlu_letters(questions: list[dict]) -> dict:
    """Shares of predicted letters, the accuracy of answering at those frequencies regardless of the question
    (sum over letters of predicted share x target share), and the share of questions whose top two
    log-likelihoods tie exactly (the first letter wins a tie)."""
    predicted = np.array([q["prediction"] for q in questions])
    target = np.array([q["target"] for q in questions])
    top_two = np.sort(np.array([q["loglikelihoods"] for q in questions]), axis=1)[:, -2:]
    shares = {letter: float(np.mean(predicted == k)) for k, letter in enumerate(LETTERS)}
    frequency_only = sum(shares[letter] * float(np.mean(target == k)) for k, letter in enumerate(LETTERS))
    return {
        **{f"mmlu_pred_{letter}": share for letter, share in shares.items()},
        "mmlu_frequency_only_acc": frequency_only,
        "mmlu_tie_share": float(np.mean(top_two[:, 0] == top_two[:, 1])),
    }


def spider_executes(samples: list[dict]) -> dict:
    """Share of predictions that ran without error (whatever their result)."""
    return {"spider_executes": 1.0 - float(np.mean([s["exec_error"] for s in samples]))}


def can_show_a_loss(base_correct: np.ndarray, floor: float) -> dict:
    """Whether a probe can show a cost: the base's 95% CI lies above `floor` (chance, or the letter-frequency
    accuracy when that is higher)."""
    low, _ = bootstrap_ci(base_correct)
    return {"ci_low": low, "floor": floor, "can_show_loss": bool(low > floor)}
