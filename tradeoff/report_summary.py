"""The report's plain-language part: what each model gained and lost, which probes can show a cost at all,
the declared decision rule, and the answer it gives."""

from __future__ import annotations

import itertools

from tradeoff.diagnostics import LETTERS
from tradeoff.layout import BASE
from tradeoff.plots import pareto_front
from tradeoff.probes import Probe

ALPHA = 0.05  # exact tests decide significance: percentile bootstrap intervals are too narrow for few flips


def pp(value: float) -> str:
    return f"{100 * value:+.1f}"


def delta(row: dict, prefix: str) -> str:
    return f"{pp(row[f'{prefix}_delta'])} [{pp(row[f'{prefix}_delta_ci_low'])}, {pp(row[f'{prefix}_delta_ci_high'])}]"


def decision_rule_text() -> list[str]:
    return [
        f"Among the learning rates whose Spider EX gain is significant for every seed (exact McNemar, p < {ALPHA} "
        "for each), choose the one with the highest EX (mean over seeds) whose change on every generality probe "
        "that can show a cost is not a significant loss: a negative mean change whose paired sign-flip test over "
        f"questions of the seed-averaged scores gives p < {ALPHA} (for one seed, the exact McNemar test). A gain "
        "must hold for every seed and a cost counts when the seeds' average shows it, so that more seeds never hide "
        "a cost. A probe that cannot show a cost (previous section) takes no part in the rule; with none left, "
        "the rule cannot weigh any cost."
    ]


def _probe_line(base: dict, probe: Probe) -> str:
    floor = base[f"{probe.name}_floor"]
    if floor <= probe.chance:
        bar = f"chance ({probe.chance:.2f})" if probe.chance else "zero (a generated answer has to be right)"
    else:
        bar = f"what its answer-position habits alone score ({floor:.4f})"
    verdict = (
        "**can show a cost**"
        if base[f"{probe.name}_can_show_loss"]
        else "**cannot show a cost**: the base is not clearly above that bar (no measured ability beyond guessing "
        "or habit, or too few questions to tell), so no change on it is read as a loss or as the absence of one"
    )
    line = (
        f"- {probe.label}: the base model scores {base[probe.prefix]:.4f} (95% CI from "
        f"{base[f'{probe.name}_base_ci_low']:.4f}); the bar is {bar}. It {verdict}."
    )
    if probe.multiple_choice:
        habit = max(LETTERS, key=lambda x: base[f"{probe.name}_pred_{x}"])
        line += (
            f" (The base picks {habit} on {100 * base[f'{probe.name}_pred_{habit}']:.1f}% of questions; "
            f"position-frequency accuracy {base[f'{probe.name}_frequency_only_acc']:.4f}.)"
        )
    return line


def probe_text(rows: list[dict], probes: list[Probe]) -> list[str]:
    base = rows[0]
    return [_probe_line(base, p) for p in probes] + [
        f"- Spider EX is the specialty: the base scores {base['spider_ex']:.4f}, and {base['spider_executes']:.1%} "
        "of its predictions execute at all.",
    ]


def counting_probes(rows: list[dict], probes: list[Probe]) -> list[Probe]:
    """The probes that can show a cost for this base model."""
    return [p for p in probes if rows[0][f"{p.name}_can_show_loss"]]


def _model_line(r: dict, probes: list[Probe], counting: list[Probe]) -> str:
    ex = r["spider_ex_delta"]
    ex_word = "gains" if ex > 0 else "loses" if ex < 0 else "keeps"
    parts = [
        f"- lr {r['learning_rate']:g} {ex_word} {abs(100 * ex):.1f} pp of Spider EX (p = {r['spider_ex_mcnemar_p']:.3g})"
    ]
    for p in probes:
        change = r[f"{p.prefix}_delta"]
        if p in counting:
            word = "loses" if change < 0 else "gains" if change > 0 else "keeps"
            p_value = loss_p(r, p.prefix) if change < 0 else r[f"{p.prefix}_mcnemar_p"]
            parts.append(f"{word} {abs(100 * change):.1f} pp of {p.label} (p = {p_value:.3g})")
        else:
            parts.append(f"{p.label} changes by {pp(change)} pp (not readable as a cost or its absence)")
    return "; ".join(parts) + "."


def significant_loss(r: dict, p: Probe) -> bool:
    """A negative change on the probe whose test is below ALPHA: over seeds, the sign-flip test of the
    seed-averaged change (a row of one model: its exact McNemar test)."""
    return r[f"{p.prefix}_delta"] < 0 and loss_p(r, p.prefix) < ALPHA


def loss_p(row: dict, prefix: str) -> float:
    """The p-value a loss is read with: the seed-averaged change's sign-flip test, or one model's McNemar test."""
    return row.get(f"{prefix}_seed_mean_p", row[f"{prefix}_mcnemar_p"])


def _losses(r: dict, counting: list[Probe]) -> str:
    lost = ", ".join(p.label for p in counting if significant_loss(r, p))
    return f"lr {r['learning_rate']:g} on {lost}"


def significant_gain(row: dict, prefix: str) -> bool:
    """A positive change whose exact McNemar test is below ALPHA for every seed: a row over seeds holds the
    largest per-seed p (a loss, by contrast, is read from the seeds' average: loss_p)."""
    return row[f"{prefix}_delta"] > 0 and row[f"{prefix}_mcnemar_p"] < ALPHA


NO_GAIN, SPIDER_ONLY, ALL_LOSE, CHOSEN = "no gain", "Spider only", "all lose", "chosen"  # the rule's outcomes


def ex_gainers(rows: list[dict]) -> list[dict]:
    """The tuned rows whose Spider EX gain is significant: the ones the decision rule weighs."""
    return [r for r in rows if r["model"] != BASE and significant_gain(r, "spider_ex")]


def rule_choice(rows: list[dict], probes: list[Probe]) -> tuple[str, dict | None]:
    """The decision rule's outcome and the learning rate's row it picks: CHOSEN; SPIDER_ONLY (no probe can show
    a cost, so the highest significant EX gain); ALL_LOSE or NO_GAIN (no row)."""
    gainers = ex_gainers(rows)
    if not gainers:
        return NO_GAIN, None
    counting = counting_probes(rows, probes)
    if not counting:
        return SPIDER_ONLY, max(gainers, key=lambda r: r["spider_ex_delta"])
    allowed = [r for r in gainers if not any(significant_loss(r, p) for p in counting)]
    if not allowed:
        return ALL_LOSE, None
    return CHOSEN, max(allowed, key=lambda r: r["spider_ex_delta"])


def summary_text(rows: list[dict], probes: list[Probe]) -> list[str]:
    """Per learning rate, its gain and (where a probe can show one) its cost; then the rule's answer."""
    tuned = [r for r in rows if r["model"] != BASE]
    if not tuned:
        return ["Only the base model was evaluated."]
    counting = counting_probes(rows, probes)
    lines = [_model_line(r, probes, counting) for r in tuned]
    lines.append("")
    outcome, choice = rule_choice(rows, probes)
    if outcome == NO_GAIN:
        return lines + ["No learning rate improved Spider EX significantly: fine-tuning did not pay off here."]
    if outcome == SPIDER_ONLY:
        return lines + [
            "**No generality probe in this study can show a cost, so it cannot say what specializing costs.** "
            f"The rule falls back on Spider alone: lr {choice['learning_rate']:g} (EX {pp(choice['spider_ex_delta'])} pp). "
            "A base model with ability to lose, and probes that can see the loss, are needed to answer the question."
        ]
    if outcome == ALL_LOSE:
        return lines + [
            "Every learning rate that improved Spider EX significantly also lost significantly on a probe that "
            "can show a cost: " + "; ".join(_losses(r, counting) for r in ex_gainers(rows)) + "."
        ]
    costs = ", ".join(f"{p.label} {pp(choice[f'{p.prefix}_delta'])} pp" for p in counting)
    lines.append(f"By the rule: lr {choice['learning_rate']:g} (EX {pp(choice['spider_ex_delta'])} pp; {costs}).")
    for p in counting:
        front = {q[2] for q in pareto_front([(r[p.prefix], r["spider_ex"], r["model"]) for r in rows])}
        lines.append(f"Pareto-efficient on Spider EX and {p.label}: {', '.join(sorted(front))}.")
    steps = list(itertools.pairwise(tuned))
    for p in counting if steps else []:
        lines.append(f"{p.label} points lost per Spider EX point gained, at each step up the grid:")
        for low, high in steps:
            gain = high["spider_ex"] - low["spider_ex"]
            loss = low[p.prefix] - high[p.prefix]
            ratio = f"{loss / gain:.2f}" if gain > 0 else "n/a (EX did not rise)"
            lines.append(f"- lr {low['learning_rate']:g} -> {high['learning_rate']:g}: {ratio}")
    return lines
