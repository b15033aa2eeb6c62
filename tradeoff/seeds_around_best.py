"""Where a study's extra seeds go: the learning rate with the best Spider EX and its neighbours in the grid.

One seed is an anecdote, and the seeds matter most around the optimum, which is not known before the grid has
been evaluated. A study with `seeds_around_best: [42, 43, 44]` therefore runs its grid (each rate with its
first seed), then picks the rate whose adapter scores the highest Spider EX (mean over the questions, as the
report reads it) and trains and evaluates these seeds at that rate and at the rates next to it in the grid.
The choice is recomputed from the results on every run of the sweep, so it is the same each time.

The study's answer is the decision rule's choice (tradeoff/report_summary.py), which need not be one of those
rates: once they are evaluated, a rate the rule picks on fewer seeds gets the same seeds, and the rule is read
again, since the new seeds may show a cost the first one hid (seed_the_choice).
"""

from __future__ import annotations

from tradeoff import layout
from tradeoff.evaluation import evaluation_done
from tradeoff.probes import Probe
from tradeoff.report_summary import rule_choice
from tradeoff.report_table import compute_rows, read_study, study_tags
from tradeoff.samples import load_suite
from tradeoff.study import Study


def _seeds_by_rate(study: Study) -> dict[float, list[int]]:
    trained: dict[float, list[int]] = {}
    for lr, seed in study.trainings():
        trained.setdefault(lr, []).append(seed)
    return trained


def grid_spider_ex(study: Study) -> dict[float, float | None]:
    """Each learning rate's Spider EX with the first seed the study trains there; None where it is not evaluated
    yet."""
    seeds = _seeds_by_rate(study)
    found = {}
    for lr in study.learning_rates:
        tag = layout.model_tag(lr, seeds[lr][0])
        if evaluation_done(study, tag, layout.SPIDER):
            scores, _ = load_suite(study.results, tag, layout.SPIDER)
            found[lr] = float(scores.correct.mean())
        else:
            found[lr] = None
    return found


def seeds_around_best(study: Study) -> tuple[float, dict[float, list[int]]]:
    """(the best learning rate, {it and its grid neighbours: their seeds so far and seeds_around_best}); a
    ValueError names the rates whose Spider EX is missing."""
    ex = grid_spider_ex(study)
    missing = [f"{lr:g}" for lr, value in ex.items() if value is None]
    if missing:
        raise ValueError(f"seeds_around_best needs every learning rate's Spider EX; missing: {', '.join(missing)}")
    rates = sorted(ex)
    best = max(rates, key=lambda lr: ex[lr])  # the lowest rate among equals
    i = rates.index(best)
    trained = _seeds_by_rate(study)
    return best, {lr: sorted({*trained[lr], *study.seeds_around_best}) for lr in rates[max(i - 1, 0) : i + 2]}


def seeds_at(study: Study, lr: float) -> dict[float, list[int]]:
    """{lr: the seeds trained there so far and seeds_around_best}, as seeds_around_best gives its rates."""
    return {lr: sorted({*_seeds_by_rate(study).get(lr, []), *study.seeds_around_best})}


def choice_to_seed(by_lr: list[dict], probes: list[Probe], seeds: list[int]) -> float | None:
    """The learning rate the decision rule picks from the report's rows per learning rate (base first), if it
    has not been trained with every one of `seeds` yet; else None (no choice, or its seeds are all in)."""
    _, row = rule_choice(by_lr, probes)
    if row is None or set(seeds) <= set(row["seeds"]):
        return None
    return row["learning_rate"]


def seed_the_choice(study: Study) -> float | None:
    """choice_to_seed on the study's results as the report reads them; None while the base or a model is
    unfinished there (the rule would be read without it)."""
    recorded = read_study(study.results)
    try:
        finished, unfinished = study_tags(study.results, recorded)
    except FileNotFoundError:  # no finished evaluation of the base
        return None
    if unfinished:
        return None
    _, _, by_lr, probes = compute_rows(study.results, recorded, finished)
    return choice_to_seed(by_lr, probes, study.seeds_around_best)
