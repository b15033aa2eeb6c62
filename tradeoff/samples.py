"""Per-question scores from the evaluation folders the sweep wrote (tradeoff/layout.py): spider_exec's lm-eval
per-sample log, and each probe's one-line-per-question file, which this module also writes.

A probe's file keeps what the report and its diagnostics need from lm-eval's per-sample logs, at a tenth of
their size. MMLU and its cloze form: task, doc_id, subject, target (0-3), the four log-likelihoods, prediction
(the argmax, the first on ties, as lm-eval scores it) and acc. GSM8K and HumanEval: task, doc_id, score, the
model's generation and the extracted answer (GSM8K's number). The full logs come back by re-running the lm_eval
command recorded in commands.jsonl.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tradeoff import layout
from tradeoff.probes import PROBES, Probe
from tradeoff_tasks.hardness import LEVELS
from tradeoff_tasks.records import read_records


@dataclass
class Scores:
    """One model's 0/1 scores, aligned by question key across models."""

    keys: list[tuple]
    correct: np.ndarray
    groups: dict[str, np.ndarray]  # group name -> boolean mask over keys


def _read_jsonl(path: Path) -> list[dict]:
    return read_records(path, (), ValueError)  # lm-eval's logs and our own files: no fields to insist on


def mmlu_question(task: str, sample: dict) -> dict:
    """One MMLU question from lm-eval's per-sample log line."""
    loglikelihoods = [float(resp[0]) for resp in sample["filtered_resps"]]
    return {
        "task": task,
        "doc_id": sample["doc_id"],
        "subject": sample["doc"]["subject"],
        "target": int(sample["target"]),
        "loglikelihoods": loglikelihoods,
        "prediction": int(np.argmax(loglikelihoods)),
        "acc": sample["acc"],
    }


def probe_question(probe: Probe, task: str, sample: dict) -> dict:
    """One question from lm-eval's per-sample log line: the multiple-choice fields above for MMLU's forms, else
    the question's score and the answer the filter extracted."""
    if probe.multiple_choice:
        return mmlu_question(task, sample)
    answer = sample.get("filtered_resps")
    answer = answer[0] if isinstance(answer, list) and answer else answer
    row = {"task": task, "doc_id": sample["doc_id"], "score": float(sample[probe.per_sample_metric])}
    row |= {"answer": answer} if isinstance(answer, str) and len(answer) <= 200 else {}
    resps = sample.get("resps") or [[None]]
    return row | {"response": resps[0][0]}  # the generation itself, so its score can be checked again


def write_questions(probe: Probe, logs: dict[str, Path], out: Path) -> int:
    """Write {task: per-sample log} as one gzipped line per question, ordered by task and doc_id (a probe scored
    through several filters keeps the lines of its headline filter)."""
    rows = [
        probe_question(probe, task, sample)
        for task in sorted(logs)
        for sample in _read_jsonl(logs[task])
        if probe.sample_filter is None or sample.get("filter") == probe.sample_filter
    ]
    rows.sort(key=lambda r: (r["task"], r["doc_id"]))
    with gzip.open(out, "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(row) + "\n" for row in rows)
    return len(rows)


def spider_scores(samples: list[dict]) -> Scores:
    rows = sorted(samples, key=lambda r: r["doc"]["index"])
    keys = [(r["doc"]["index"],) for r in rows]
    hardness = np.array([r["doc"]["hardness"] for r in rows])
    groups = {level: hardness == level for level in LEVELS}
    return Scores(keys, np.array([r["exec_match"] for r in rows], dtype=float), groups)


def probe_scores(probe: Probe, rows: list[dict], folder: Path) -> Scores:
    """Scores keyed by (task, doc_id); MMLU's groups are its four categories and its subjects, the cloze form's
    its subjects."""
    keys = [(r["task"], r["doc_id"]) for r in rows]
    correct = np.array([r["score"] if "score" in r else r["acc"] for r in rows], dtype=float)
    groups: dict[str, np.ndarray] = {}
    tasks = np.array([r["task"] for r in rows])
    if probe.name == "mmlu":
        results = json.loads((folder / layout.RESULTS_FILE).read_text())
        category_of = {
            task: group for group in layout.MMLU_CATEGORIES for task in results["group_subtasks"].get(group, [])
        }
        categories = np.array([category_of.get(t, "unknown") for t in tasks])
        groups = {c: categories == c for c in layout.MMLU_CATEGORIES}
    if probe.multiple_choice:
        groups |= {f"subject:{t}": tasks == t for t in sorted(set(tasks))}
    return Scores(keys, correct, groups)


def load_suite(results_dir: Path, tag: str, suite: str) -> tuple[Scores, list[dict]]:
    """A model's scores on one suite, and the per-question lines they come from (read once, for the
    diagnostics too): lm-eval's samples for spider_exec, a probe's question file."""
    folder = layout.eval_dir(results_dir, tag, suite)
    if suite == layout.SPIDER:
        rows = _read_jsonl(folder / layout.SPIDER_SAMPLES_FILE)
        return spider_scores(rows), rows
    rows = _read_jsonl(folder / layout.QUESTIONS_FILE)
    return probe_scores(PROBES[suite], rows, folder), rows
