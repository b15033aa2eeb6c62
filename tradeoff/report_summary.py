"""The report's plain-language part: what each model gained and lost, which probes can show a cost at all,
the declared decision rule, and the answer it gives."""

from __future__ import annotations

import itertools

from tradeoff.diagnostics import LETTERS, MMLU_CHANCE
from tradeoff.plots import pareto_front

ALPHA = 0.05  # exact McNemar tests decide significance: percentile bootstrap intervals are too narrow for few flips


def pp(value: float) -> str:
    return f"{100 * value:+.1f}"


def delta(row: dict, prefix: str) -> str:
    return f"{pp(row[f'{prefix}_delta'])} [{pp(row[f'{prefix}_delta_ci_low'])}, {pp(row[f'{prefix}_delta_ci_high'])}]"


def _significant(row: dict, prefix: str) -> bool:
    return row[f"{prefix}_mcnemar_p"] < ALPHA


def decision_rule_text() -> list[str]:
    return [
        f"Among the learning rates whose Spider EX gain is significant (exact McNemar, p < {ALPHA}), choose the "
        "one with the highest EX whose change on every generality probe that can show a cost is not a "
        f"significant loss (a negative change with p < {ALPHA}). A probe that cannot show a cost (previous "
        "section) takes no part in the rule, and then the rule cannot weigh any cost."
    ]


def probe_text(rows: list[dict]) -> list[str]:
    base = rows[0]
    floor_reason = (
        f"chance ({MMLU_CHANCE:.2f})"
        if base["mmlu_floor"] <= MMLU_CHANCE
        else f"what its letter frequencies alone score ({base['mmlu_floor']:.4f})"
    )
    habit = max(LETTERS, key=lambda x: base[f"mmlu_pred_{x}"])
    verdict = (
        "**can show a cost**"
        if base["mmlu_can_show_loss"]
        else "**cannot show a cost**: the base is not clearly above that bar (no measured ability beyond answering "
        "by letter habit, or too few questions to tell), so no change on it is read as a loss or as the absence "
        "of one"
    )
    return [
        f"- MMLU: the base model scores {base['mmlu_acc']:.4f} (95% CI from {base['mmlu_base_ci_low']:.4f}); the "
        f"bar is {floor_reason}. It {verdict}. (The base answers {habit} on "
        f"{100 * base[f'mmlu_pred_{habit}']:.1f}% of questions; letter-frequency accuracy "
        f"{base['mmlu_frequency_only_acc']:.4f}.)",
        f"- Spider EX is the specialty: the base scores {base['spider_ex']:.4f}, and {base['spider_executes']:.1%} "
        "of its predictions execute at all.",
    ]


def _model_line(r: dict, mmlu_counts: bool) -> str:
    ex = r["spider_ex_delta"]
    ex_word = "gains" if ex > 0 else "loses" if ex < 0 else "keeps"
    line = f"- lr {r['learning_rate']:g} {ex_word} {abs(100 * ex):.1f} pp of Spider EX (p = {r['spider_ex_mcnemar_p']:.3g})"
    mm = r["mmlu_acc_delta"]
    if mmlu_counts:
        mm_word = "loses" if mm < 0 else "gains" if mm > 0 else "keeps"
        return line + f" and {mm_word} {abs(100 * mm):.1f} pp of MMLU (p = {r['mmlu_acc_mcnemar_p']:.3g})."
    return line + f"; its MMLU changes by {pp(mm)} pp, which cannot be read as a cost or its absence here."


def summary_text(rows: list[dict]) -> list[str]:
    """Per model, its gain and (where a probe can show one) its cost; then the rule's answer."""
    tuned = [r for r in rows if r["model"] != "base"]
    if not tuned:
        return ["Only the base model was evaluated."]
    mmlu_counts = rows[0]["mmlu_can_show_loss"]
    lines = [_model_line(r, mmlu_counts) for r in tuned]
    gainers = [r for r in tuned if r["spider_ex_delta"] > 0 and _significant(r, "spider_ex")]
    lines.append("")
    if not gainers:
        return lines + ["No learning rate improved Spider EX significantly: fine-tuning did not pay off here."]
    allowed = [r for r in gainers if not (mmlu_counts and r["mmlu_acc_delta"] < 0 and _significant(r, "mmlu_acc"))]
    if not mmlu_counts:
        top = max(gainers, key=lambda r: r["spider_ex_delta"])
        return lines + [
            "**No generality probe in this study can show a cost, so it cannot say what specializing costs.** "
            f"The rule falls back on Spider alone: lr {top['learning_rate']:g} (EX {pp(top['spider_ex_delta'])} pp). "
            "A base model with ability to lose, and probes that can see the loss, are needed to answer the question."
        ]
    if not allowed:
        return lines + ["Every learning rate that improved Spider EX significantly also lost MMLU significantly."]
    choice = max(allowed, key=lambda r: r["spider_ex_delta"])
    front = {p[2] for p in pareto_front([(r["mmlu_acc"], r["spider_ex"], r["model"]) for r in rows])}
    lines.append(
        f"By the rule: lr {choice['learning_rate']:g} (EX {pp(choice['spider_ex_delta'])} pp, MMLU "
        f"{pp(choice['mmlu_acc_delta'])} pp). Pareto-efficient models: {', '.join(sorted(front))}."
    )
    steps = list(itertools.pairwise(tuned))
    if steps:
        lines.append("MMLU points lost per Spider EX point gained, at each step up the grid:")
        for low, high in steps:
            gain = high["spider_ex"] - low["spider_ex"]
            loss = low["mmlu_acc"] - high["mmlu_acc"]
            ratio = f"{loss / gain:.2f}" if gain > 0 else "n/a (EX did not rise)"
            lines.append(f"- lr {low['learning_rate']:g} -> {high['learning_rate']:g}: {ratio}")
    return lines
