"""What the spider_exec task does with lm-eval's callbacks: dataset, prompt, cleanup filter, metrics.

Scoring runs in the filter, which sees every generation of the task at once, so the worker pool executes
them in parallel; process_results then only reads the cached scores.
"""

from __future__ import annotations

import sys

import datasets

from . import prompts
from .executor import Limits
from .hardness import LEVELS
from .pool import score_tasks
from .spider_data import build_rows
from .sql_text import clean_generation

_scores: dict[tuple, dict] = {}


def load_dataset_dict(
    spider_dir=None,
    split: str = "dev",
    sample_rows: int = 0,
    fail_on_missing_db: bool = False,
    keep_distinct: bool = False,
    timeout: float = Limits.timeout_s,
    max_rows: int = Limits.max_rows,
    grouped_decode: bool = True,
    answer_prefix: str = "",
    fewshot: bool = False,
    **_other_metadata,  # lm-eval also passes --model_args and the task's own metadata
) -> datasets.DatasetDict:
    rows = build_rows(spider_dir, split, int(sample_rows), True, _flag(fail_on_missing_db))
    options = {
        "keep_distinct": _flag(keep_distinct),
        "timeout": float(timeout),
        "max_rows": int(max_rows),
        "answer_prefix": str(answer_prefix),  # lm-eval's gen_prefix: the answer starts with it (e.g. "SELECT")
    }
    # The dataset is built after the model is loaded and before generation: the one hook where the task can
    # choose how decode steps attend (see grouped_decode.py).
    from .grouped_decode import use_grouped_decode

    if use_grouped_decode(_flag(grouped_decode)):
        print(
            "spider_exec: decode steps share key/value heads without copying them (tradeoff_tasks/"
            "grouped_decode.py); --metadata '{\"grouped_decode\": false}' keeps transformers' sdpa",
            file=sys.stderr,
        )
    evaluated = datasets.Dataset.from_list([dict(row, **options) for row in rows])
    # The train split serves lm-eval's --num_fewshot (examples from other databases, as Spider's splits are);
    # building it costs seconds, so it is empty unless --metadata asks for it (the YAML names it either way).
    if _flag(fewshot):
        train = build_rows(spider_dir, "train", int(sample_rows), require_databases=False)
        train_split = datasets.Dataset.from_list([dict(row, **options) for row in train])
    else:
        train_split = evaluated.select([])
    return datasets.DatasetDict({"eval": evaluated, "train": train_split})


def _flag(value) -> bool:
    """A --metadata switch: JSON booleans, or the strings true/false, 1/0, yes/no."""
    if not isinstance(value, str):
        return bool(value)
    word = value.strip().lower()
    if word not in ("true", "false", "1", "0", "yes", "no"):
        raise ValueError(f"spider_exec --metadata: '{value}' is not a true/false value")
    return word in ("true", "1", "yes")


def doc_to_text(doc: dict) -> str:
    return prompts.build_prompt(doc["question"], doc["schema"])


def _task(doc: dict, prediction: str) -> dict:
    keys = ("keep_distinct", "timeout", "max_rows")
    return {"db": doc["db_path"], "gold": doc["query"], "prediction": prediction, **{k: doc[k] for k in keys}}


def _key(task: dict) -> tuple:
    return tuple(sorted(task.items()))


def clean_and_score(resps: list[list[str]], docs: list[dict]) -> list[list[str]]:
    # With an answer prefix the model continues the prefix: the prediction is the prefix and what follows.
    cleaned = [
        [clean_generation(doc["answer_prefix"] + r) for r in doc_resps]
        for doc, doc_resps in zip(docs, resps, strict=True)
    ]
    tasks = {_key(t): t for doc, preds in zip(docs, cleaned, strict=True) for t in (_task(doc, p) for p in preds)}
    todo = [t for key, t in tasks.items() if key not in _scores]
    for task, score in zip(todo, score_tasks(todo), strict=True):
        _scores[_key(task)] = score
    return cleaned


def process_results(doc: dict, results: list[str]) -> dict:
    task = _task(doc, results[0])
    score = _scores.get(_key(task)) or score_tasks([task])[0]
    metrics = {
        "exec_match": score["exec_match"],
        "exec_error": int(score["error"] is not None),
        "gold_error": int(score["gold_error"] is not None),
    }
    # Every document reports every hardness metric, None outside its own level, and mean_of_scored averages
    # the rest: lm-eval's data-parallel mode gathers the metric names the first process saw, so a level
    # missing from one process's share of the questions would otherwise be dropped or end the run.
    for level in LEVELS:
        metrics[f"exec_match_{level}"] = score["exec_match"] if doc["hardness"] == level else None
    # A gold query that returns no rows is matched by any empty prediction: EX without those questions, and
    # their share, show how much of a score such matches make.
    gold_empty = score.get("gold_empty")
    metrics["gold_empty"] = gold_empty
    metrics["exec_match_nonempty_gold"] = score["exec_match"] if gold_empty == 0 else None
    return metrics


def mean_of_scored(values: list) -> float:
    """The mean of the values that are not None (nan when there are none)."""
    scored = [v for v in values if v is not None]
    return sum(scored) / len(scored) if scored else float("nan")
