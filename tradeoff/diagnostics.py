"""What a headline number can hide, per model: which answer letters an MMLU model picks and what those letter
frequencies alone would score; how many Spider predictions execute at all; which generated answers carry
special-token text or SQL; and whether a probe's base score is far enough above chance that the probe can show
a loss at all.

A model that always answers "A" scores the share of "A" answers, about 25% on MMLU. So MMLU can only show that
fine-tuning cost something when the base model is clearly better than its own letter habits: the lower end of
its 95% CI above both chance and the accuracy its letter frequencies alone would give.
"""

from __future__ import annotations

import re

import numpy as np

LETTERS = "ABCD"
# A tokenizer's control tokens as text (Qwen's `<|fim_prefix|>`, `<|im_end|>`): a generation that emits one the
# harness's stop sequences do not catch keeps it in its answer, where it breaks the code or the number.
SPECIAL_TOKEN_TEXT = re.compile(r"<\|[A-Za-z0-9_]+\|>")
# A SQL query, as Spider training teaches it: the specialty leaking into a general task.
SQL_QUERY = re.compile(r"\bSELECT\b.+?\bFROM\b", re.DOTALL)


def answer_positions(questions: list[dict], probe: str = "mmlu") -> dict:
    """Shares of predicted answer positions (letters A-D; for the cloze form, the position of the chosen
    option), the accuracy of answering at those frequencies regardless of the question (sum over positions of
    predicted share x target share), and the share of questions whose top two log-likelihoods tie exactly (the
    first position wins a tie). Keys are prefixed with the probe's name."""
    predicted = np.array([q["prediction"] for q in questions])
    target = np.array([q["target"] for q in questions])
    top_two = np.sort(np.array([q["loglikelihoods"] for q in questions]), axis=1)[:, -2:]
    shares = {letter: float(np.mean(predicted == k)) for k, letter in enumerate(LETTERS)}
    frequency_only = sum(shares[letter] * float(np.mean(target == k)) for k, letter in enumerate(LETTERS))
    return {
        **{f"{probe}_pred_{letter}": share for letter, share in shares.items()},
        f"{probe}_frequency_only_acc": frequency_only,
        f"{probe}_tie_share": float(np.mean(top_two[:, 0] == top_two[:, 1])),
        f"{probe}_debiased_acc": float(position_debiased_correct(questions).mean()),
    }


def position_debiased_correct(questions: list[dict]) -> np.ndarray:
    """Each question scored after removing the model's own preference for answer positions: the log of its
    mean probability per position, over all questions (read from the model's outputs only, never from the
    answers), is subtracted from each question's normalized log-likelihoods before the argmax. A model that
    knows nothing scores about chance; one whose knowledge hides behind a letter habit keeps it."""
    ll = np.array([q["loglikelihoods"] for q in questions], dtype=float)
    logp = ll - np.logaddexp.reduce(ll, axis=1, keepdims=True)
    prior = np.logaddexp.reduce(logp, axis=0) - np.log(len(ll))
    target = np.array([q["target"] for q in questions])
    return (np.argmax(logp - prior, axis=1) == target).astype(float)


def spider_diagnostics(samples: list[dict]) -> dict:
    """Share of predictions that ran without error (whatever their result); and, where the task recorded it
    (version 1.5 on), the share of questions whose gold result is empty (any empty prediction matches those)
    and EX on the others. None where not recorded."""
    out = {
        "spider_executes": 1.0 - float(np.mean([s["exec_error"] for s in samples])),
        "spider_gold_empty": None,
        "spider_ex_nonempty_gold": None,
    }
    if samples and "gold_empty" in samples[0]:
        known = [s for s in samples if s["gold_empty"] is not None]
        nonempty = [s["exec_match"] for s in known if s["gold_empty"] == 0]
        out["spider_gold_empty"] = float(np.mean([s["gold_empty"] for s in known])) if known else None
        out["spider_ex_nonempty_gold"] = float(np.mean(nonempty)) if nonempty else None
    return out


def generation_diagnostics(questions: list[dict], base_questions: list[dict], probe: str) -> dict:
    """For a generation probe: the share of answers with special-token text and the share with SQL in them, the
    number of questions the base got right and this model got wrong, and how many of those answers have
    special-token text or SQL. Questions are matched by doc_id."""
    special = {q["doc_id"]: bool(SPECIAL_TOKEN_TEXT.search(q["response"])) for q in questions}
    sql = {q["doc_id"]: bool(SQL_QUERY.search(q["response"])) for q in questions}
    base_right = {q["doc_id"] for q in base_questions if q["score"]}
    lost = [q["doc_id"] for q in questions if not q["score"] and q["doc_id"] in base_right]
    return {
        f"{probe}_special_token_share": float(np.mean(list(special.values()))),
        f"{probe}_sql_share": float(np.mean(list(sql.values()))),
        f"{probe}_lost_n": len(lost),
        f"{probe}_lost_special_or_sql_n": sum(special[d] or sql[d] for d in lost),
    }


def can_show_a_loss(base_ci_low: float, floor: float) -> bool:
    """Whether a probe can show a cost: the lower end of the base's 95% CI lies above `floor` (chance, or the
    letter-frequency accuracy when that is higher)."""
    return bool(base_ci_low > floor)
