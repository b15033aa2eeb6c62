"""lm-eval glue for spider_exec: thin wrappers around the tradeoff_tasks package.

lm-eval loads this file by path for each `!function`, so anything stateful (the worker pool, the score
cache) lives in the package, which Python imports once.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import tradeoff_tasks  # noqa: F401
except ImportError:  # used through --include_path without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tradeoff_tasks import task_support


def load_spider(**metadata):
    """custom_dataset: lm-eval passes --metadata (and --model_args) as keyword arguments."""
    return task_support.load_dataset_dict(**metadata)


def doc_to_text(doc: dict) -> str:
    return task_support.doc_to_text(doc)


def clean_and_score(resps, docs):
    """Filter: clean every generation into one SQL statement, then score them all in parallel."""
    return task_support.clean_and_score(resps, docs)


def process_results(doc: dict, results: list[str]) -> dict:
    return task_support.process_results(doc, results)


def mean_of_scored(values: list) -> float:
    """Aggregation of the hardness metrics: each document scores only its own level."""
    return task_support.mean_of_scored(values)
