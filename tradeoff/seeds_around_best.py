"""Where a study's extra seeds go: the learning rate with the best Spider EX and its neighbours in the grid.

One seed is an anecdote, and the seeds matter most around the optimum, which is not known before the grid has
been evaluated. A study with `seeds_around_best: [42, 43, 44]` therefore runs its grid (each rate with its
first seed), then picks the rate whose adapter scores the highest Spider EX (mean over the questions, as the
report reads it) and trains and evaluates these seeds at that rate and at the rates next to it in the grid.
The choice is recomputed from the results on every run of the sweep, so it is the same each time.
"""

from __future__ import annotations

from tradeoff import layout
from tradeoff.evaluation import evaluation_done
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
