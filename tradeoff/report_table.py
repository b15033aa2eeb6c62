"""The numbers of the report, computed only from what the sweep wrote (per-sample logs, training metadata) and,
where it was run, `tradeoff humaneval-cut`'s re-run of HumanEval answers."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

import numpy as np
import yaml

from tradeoff import humaneval_cut, layout
from tradeoff.diagnostics import (
    answer_positions,
    can_show_a_loss,
    generation_diagnostics,
    position_debiased_correct,
    spider_diagnostics,
)
from tradeoff.humaneval_cut import cut_correct
from tradeoff.layout import MMLU_CATEGORIES
from tradeoff.probes import Probe, study_probes
from tradeoff.samples import Scores, load_suite
from tradeoff.stats import bootstrap_ci, mcnemar_exact, paired_bootstrap_ci, sign_flip_p
from tradeoff_tasks.hardness import LEVELS as SPIDER_GROUPS

log = logging.getLogger(__name__)


def _align(model: Scores, base: Scores) -> tuple[Scores, Scores]:
    """Restrict both to the questions both answered (they differ only if a run was cut short)."""
    if model.keys == base.keys:
        return model, base
    common = sorted(set(model.keys) & set(base.keys))
    log.warning("scored question sets differ; comparing on the %d questions both have", len(common))

    def pick(s: Scores) -> Scores:
        index = {k: i for i, k in enumerate(s.keys)}
        rows = np.array([index[k] for k in common], dtype=int)
        return Scores(common, s.correct[rows], {g: m[rows] for g, m in s.groups.items()})

    return pick(model), pick(base)


def _metric(prefix: str, model: np.ndarray, base: np.ndarray, with_test: bool) -> dict:
    delta, low, high = paired_bootstrap_ci(model, base)
    row = {
        prefix: float(model.mean()) if model.size else float("nan"),
        f"{prefix}_n": int(model.size),
        f"{prefix}_delta": delta,
        f"{prefix}_delta_ci_low": low,
        f"{prefix}_delta_ci_high": high,
    }
    if with_test:
        row[f"{prefix}_ci_low"], row[f"{prefix}_ci_high"] = bootstrap_ci(model)
        test = mcnemar_exact(model, base)
        row |= {
            f"{prefix}_mcnemar_p": test["p_value"],
            f"{prefix}_gained": test["gained"],
            f"{prefix}_lost": test["lost"],
        }
    return row


def read_study(results_dir: Path) -> dict:
    """The study as run: the results folder's study.yaml, which the sweep writes with its overrides applied."""
    return yaml.safe_load((Path(results_dir) / "study.yaml").read_text())


def study_tags(results_dir: Path, study: dict | None = None) -> tuple[list[tuple[str, float | None]], list[str]]:
    """(tag, learning rate) of every model with all its evaluations, base first, then by learning rate and seed;
    and the tags of the study's models that are not finished yet (the report names them rather than dropping
    them). A study.yaml without `seeds` trained the default seed. `study`: read_study's, if already read."""
    from tradeoff.study import trainings

    study = read_study(results_dir) if study is None else study
    probes = study_probes(study)
    suites = [layout.SPIDER, *(p.name for p in probes)]
    tags = [(layout.BASE, None)] + [(layout.model_tag(lr, seed), lr) for lr, seed in trainings(study)]
    base_settings = {s: layout.recorded_settings(layout.eval_dir(results_dir, layout.BASE, s)) for s in suites}
    done = [(t, lr) for t, lr in tags if _one_model_everywhere(results_dir, t, suites, base_settings)]
    if not done or done[0][0] != layout.BASE:
        raise FileNotFoundError(f"{results_dir}: no finished evaluation of the base model (eval/base/*/results.json)")
    return done, [t for t, _ in tags if (t, _) not in done]


def _one_model_everywhere(results_dir: Path, tag: str, suites: list[str], base_settings: dict) -> bool:
    """Every suite evaluated, all on the same weights, and each with the base's settings: suites stamped with
    different adapter weights (a retrained adapter evaluated on some suites only) would compare one model's Spider
    with another's probes, and a suite evaluated with other settings than the base's is not a paired comparison."""
    folders = [layout.eval_dir(results_dir, tag, s) for s in suites]
    if not all((folder / layout.RESULTS_FILE).is_file() for folder in folders):
        return False
    stamps = [f / layout.EVALUATED_MODEL_FILE for f in folders]
    if len({stamp.read_text().strip() for stamp in stamps if stamp.is_file()}) > 1:  # older results lack them
        return False
    settings = {suite: layout.recorded_settings(folder) for suite, folder in zip(suites, folders, strict=True)}
    return all(None in (settings[s], base_settings[s]) or settings[s] == base_settings[s] for s in suites)


def training_figures(results_dir: Path, tag: str) -> dict:
    """Steps and final loss from the adapter's training record, and whether that record is of the weights that
    were evaluated: a record written since for a retrained adapter, or lost with a machine, gives no figures.
    Records from before they named their weights are read as they are ("unverified")."""
    path = layout.training_record(results_dir, tag)
    if not path.is_file():
        return {"training_record": "missing"}
    meta = json.loads(path.read_text())
    stamp = layout.eval_dir(results_dir, tag, layout.SPIDER) / layout.EVALUATED_MODEL_FILE
    recorded = meta.get(layout.ADAPTER_SHA256_KEY)  # read once: the figures come from the same record
    if recorded is None or not stamp.is_file():
        status = "unverified"
    elif recorded == stamp.read_text().strip():
        status = "of the evaluated adapter"
    else:
        return {"training_record": "of another adapter"}
    history = meta.get("loss_history", [])
    losses = logged_losses(history)
    return {
        "training_record": status,
        "train_steps": meta.get("steps"),
        "train_epochs": meta.get("epochs"),
        "final_train_loss": losses[-1] if losses else None,
        "diverged": divergence(history),
    }


def logged_losses(loss_history: list[dict]) -> list[float]:
    """The training losses in a record's history, in step order (its other entries log evaluation or the end)."""
    return [e["loss"] for e in loss_history if "loss" in e]


def divergence(loss_history: list[dict]) -> str:
    """Why a training's logged history says it diverged ("" if it does not): a loss or gradient norm that is not
    finite, or a last logged loss above the first (one epoch of fine-tuning should end below where it began)."""
    for entry in loss_history:
        for key in ("loss", "grad_norm"):
            if key in entry and not math.isfinite(entry[key]):
                return f"{key} {entry[key]} at step {entry.get('step')}"
    losses = logged_losses(loss_history)
    if len(losses) > 1 and losses[-1] > losses[0]:
        return f"loss rose from {losses[0]:.3f} to {losses[-1]:.3f}"
    return ""


def _as_read(probe: Probe, scored: Scores, questions: list[dict]) -> Scores:
    """The scores the report reads: the harness's, or position-debiased ones when the study asks for them."""
    if not probe.debiased:
        return scored
    return Scores(scored.keys, position_debiased_correct(questions), scored.groups)


def _probe_columns(
    probe: Probe, scored: Scores, base: Scores, questions: list[dict], base_questions: list[dict]
) -> dict:
    row = _metric(probe.prefix, scored.correct, base.correct, True)
    if probe.multiple_choice:
        row |= answer_positions(questions, probe.name)
    else:
        row |= generation_diagnostics(questions, base_questions, probe.name)
    if probe.name == "mmlu":
        for category in MMLU_CATEGORIES:
            mask = scored.groups[category]
            row |= _metric(f"{category}_acc", scored.correct[mask], base.correct[mask], False)
    return row


def _cut_scores(results_dir: Path, tag: str, scored: Scores) -> Scores | None:
    """A model's HumanEval scores with the verdicts of `tradeoff humaneval-cut`'s re-run; None if not re-run."""
    correct = cut_correct(layout.eval_dir(results_dir, tag, humaneval_cut.SUITE), scored)
    return None if correct is None else Scores(scored.keys, correct, scored.groups)


def _cut_columns(mine: Scores | None, base_cut: Scores | None) -> dict:
    """HumanEval with answers cut at special-token text, against the base's, where both were re-run."""
    if mine is None or base_cut is None:
        return {}
    mine, base_cut = _align(mine, base_cut)
    return _metric(humaneval_cut.PREFIX, mine.correct, base_cut.correct, True)


def _subject_rows(tag: str, lr: float, probe: Probe, scored: Scores, base: Scores) -> list[dict]:
    return [
        {
            "probe": probe.name,
            "model": tag,
            "learning_rate": lr,
            "subject": group.removeprefix("subject:"),
            "n": int(mask.sum()),
            "acc": float(scored.correct[mask].mean()),
            "base_acc": float(base.correct[mask].mean()),
            "delta": float(scored.correct[mask].mean() - base.correct[mask].mean()),
        }
        for group, mask in scored.groups.items()
        if group.startswith("subject:")
    ]


def _can_show(base_row: dict, probe: Probe) -> dict:
    """Whether the base is clearly above what guessing, or answering by position habit, scores."""
    habit = base_row.get(f"{probe.name}_frequency_only_acc", 0.0)
    floor = max(probe.chance, habit)
    low = base_row[f"{probe.prefix}_ci_low"]
    return {
        f"{probe.name}_base_ci_low": low,
        f"{probe.name}_floor": floor,
        f"{probe.name}_can_show_loss": can_show_a_loss(low, floor),
    }


def compute_rows(
    results_dir: Path, study: dict | None = None, finished: list[tuple[str, float | None]] | None = None
) -> tuple[list[dict], list[dict], list[dict], list[Probe]]:
    """One row per finished model (base first), one row per (model, subject) of the multiple-choice probes with
    its change, one row per learning rate over its seeds (base first; see seed_rows), and the probes.
    `study`: read_study's, and `finished`: study_tags' finished models, if the caller already has them."""
    study = read_study(results_dir) if study is None else study
    tags = study_tags(results_dir, study)[0] if finished is None else finished
    probes = study_probes(study)
    suites = [layout.SPIDER, *(p.name for p in probes)]
    base_suites = {s: load_suite(results_dir, layout.BASE, s) for s in suites}
    # the base's scores as the report reads them, once: every model is compared with them
    base = {layout.SPIDER: base_suites[layout.SPIDER][0]}
    base |= {p.name: _as_read(p, *base_suites[p.name]) for p in probes}
    suite = humaneval_cut.SUITE
    base_cut = _cut_scores(results_dir, layout.BASE, base[suite]) if suite in base else None
    rows, subject_rows, scores = [], [], {}
    for tag, lr in tags:
        loaded = base_suites if tag == layout.BASE else {s: load_suite(results_dir, tag, s) for s in suites}
        spider, spider_base = _align(loaded[layout.SPIDER][0], base[layout.SPIDER])
        scores[tag] = {"spider_ex": (spider, spider_base)}
        row = {"model": tag, "learning_rate": lr, "seed": layout.parse_tag(tag)[1]}
        row |= _metric("spider_ex", spider.correct, spider_base.correct, True)
        for level in SPIDER_GROUPS:
            mask = spider.groups[level]
            row |= _metric(f"spider_ex_{level}", spider.correct[mask], spider_base.correct[mask], False)
        row |= spider_diagnostics(loaded[layout.SPIDER][1])
        for probe in probes:
            read = base[probe.name] if tag == layout.BASE else _as_read(probe, *loaded[probe.name])
            scored, scored_base = _align(read, base[probe.name])
            scores[tag][probe.prefix] = (scored, scored_base)
            row |= _probe_columns(probe, scored, scored_base, loaded[probe.name][1], base_suites[probe.name][1])
            if probe.name == humaneval_cut.SUITE:
                mine = base_cut if tag == layout.BASE else _cut_scores(results_dir, tag, scored)
                row |= _cut_columns(mine, base_cut)
            if tag != layout.BASE:
                subject_rows += _subject_rows(tag, lr, probe, scored, scored_base)
        if tag != layout.BASE:
            row |= training_figures(results_dir, tag)
        rows.append(row)
    for probe in probes:  # the base's CI is the one its row already has (_metric's bootstrap)
        rows[0] |= _can_show(rows[0], probe)
    prefixes = ["spider_ex", *(p.prefix for p in probes)]
    return rows, subject_rows, seed_rows(rows, scores, prefixes), probes


def seed_rows(rows: list[dict], scores: dict, prefixes: list[str]) -> list[dict]:
    """Per learning rate: the mean over its seeds, the spread between seeds (min, max, standard deviation), the
    change against the base with a 95% CI from a paired bootstrap over questions of the seed-averaged
    per-question score (question sampling, with the seeds' disagreement folded into each question's score),
    the largest per-seed McNemar p-value (a gain counts as significant only if it is for every seed) and the
    sign-flip test of the seed-averaged change (a loss counts as significant when the seeds' average shows it;
    for one seed both are the exact McNemar test).
    The base row comes first, unchanged."""
    out = [rows[0]]
    for lr in sorted({r["learning_rate"] for r in rows[1:]}):
        models = [r for r in rows[1:] if r["learning_rate"] == lr]
        row = {"model": layout.lr_tag(lr), "learning_rate": lr, "seeds": [r["seed"] for r in models]}
        for prefix in prefixes:
            pairs = [scores[r["model"]][prefix] for r in models]
            if any(p[0].keys != pairs[0][0].keys for p in pairs):
                raise ValueError(f"{row['model']}: its seeds were scored on different questions")
            averaged = np.mean([p[0].correct for p in pairs], axis=0)
            per_seed = [r[prefix] for r in models]
            row |= _metric(prefix, averaged, pairs[0][1].correct, True) | {
                f"{prefix}_seed_min": min(per_seed),
                f"{prefix}_seed_max": max(per_seed),
                f"{prefix}_seed_std": float(np.std(per_seed, ddof=1)) if len(per_seed) > 1 else 0.0,
                f"{prefix}_mcnemar_p": max(r[f"{prefix}_mcnemar_p"] for r in models),
                f"{prefix}_mcnemar_p_per_seed": [r[f"{prefix}_mcnemar_p"] for r in models],
                f"{prefix}_seed_mean_p": sign_flip_p(averaged, pairs[0][1].correct),
            }
            del row[f"{prefix}_gained"], row[f"{prefix}_lost"]  # counted per seed, in the models' rows
        out.append(row)
    return out
