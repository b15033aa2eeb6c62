"""lm-eval glue for the project's humaneval: the harness's program layout, run in the sandbox.

The filter builds each program as the harness does (prompt + completion, then the test and
`check(entry_point)`) and runs them all in parallel; process_results reads the verdict.
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import tradeoff_tasks  # noqa: F401
except ImportError:  # used through --include_path without `pip install -e .`
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tradeoff_tasks import humaneval_scoring


def build_and_run(resps, docs):
    return humaneval_scoring.build_and_run(resps, docs)


def process_results(doc: dict, results: list[str]) -> dict:
    return humaneval_scoring.process_results(doc, results)
