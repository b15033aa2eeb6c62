"""Per-question scores from the evaluation folders the sweep wrote (lm-eval results + per-sample logs).

results/<study>/eval/<tag>/spider_exec/{results.json, samples_spider_exec.jsonl.gz}
results/<study>/eval/<tag>/mmlu/{results.json, samples_mmlu_<subject>.jsonl.gz ...}
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MMLU_CATEGORIES = ("mmlu_stem", "mmlu_humanities", "mmlu_social_sciences", "mmlu_other")


@dataclass
class Scores:
    """One model's 0/1 scores, aligned by question key across models."""

    keys: list[tuple]
    correct: np.ndarray
    groups: dict[str, np.ndarray]  # group name -> boolean mask over keys


def _read_samples(path: Path) -> list[dict]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def spider_scores(folder: Path) -> Scores:
    rows = sorted(_read_samples(folder / "samples_spider_exec.jsonl.gz"), key=lambda r: r["doc"]["index"])
    keys = [(r["doc"]["index"],) for r in rows]
    hardness = np.array([r["doc"]["hardness"] for r in rows])
    groups = {level: hardness == level for level in ("easy", "medium", "hard", "extra")}
    return Scores(keys, np.array([r["exec_match"] for r in rows], dtype=float), groups)


def mmlu_scores(folder: Path) -> Scores:
    results = json.loads((folder / "results.json").read_text())
    category_of = {task: group for group in MMLU_CATEGORIES for task in results["group_subtasks"].get(group, [])}
    keys, correct, categories = [], [], []
    for path in sorted(folder.glob("samples_mmlu_*.jsonl.gz")):
        task = path.name.removeprefix("samples_").removesuffix(".jsonl.gz")
        for row in sorted(_read_samples(path), key=lambda r: r["doc_id"]):
            keys.append((task, row["doc_id"]))
            correct.append(row["acc"])
            categories.append(category_of.get(task, "unknown"))
    categories = np.array(categories)
    subjects = np.array([k[0] for k in keys])
    groups = {c: categories == c for c in MMLU_CATEGORIES}
    groups |= {f"subject:{s}": subjects == s for s in sorted(set(subjects))}
    return Scores(keys, np.array(correct, dtype=float), groups)


def load_suite(results_dir: Path, tag: str, suite: str) -> Scores:
    folder = results_dir / "eval" / tag / suite
    return spider_scores(folder) if suite == "spider_exec" else mmlu_scores(folder)
