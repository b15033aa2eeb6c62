"""Offline test environment: no hub access, a throwaway HF_HOME, and shared fixtures."""

import os
import tempfile
from pathlib import Path

# Set before any test module imports transformers/datasets/lm-eval, which read these at import time.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="tradeoff-hf-home-")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.pop("SPIDER_DIR", None)
os.environ["TRADEOFF_CACHE_DIR"] = tempfile.mkdtemp(prefix="tradeoff-cache-")  # not the user's ~/.cache

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# Real data for the real-data tests (data/spider, data/mmlu, models/smollm2-135m-instruct); they skip without it.
SHARED = Path(os.environ.get("TRADEOFF_TEST_DATA", ROOT.parent / "shared"))
ABSENT = "set TRADEOFF_TEST_DATA to a folder holding it"
REAL_SPIDER = SHARED / "data" / "spider"
TASKS_DIR = ROOT / "tradeoff_tasks"
TINY_CONFIG_PATH = ROOT / "harness_configs" / "sft_tiny_cpu.yaml"


@pytest.fixture(scope="session")
def sample_spider(tmp_path_factory) -> Path:
    from tradeoff_tasks.sample.build import build_sample

    return build_sample(tmp_path_factory.mktemp("sample-spider"))


@pytest.fixture(scope="session")
def real_spider() -> Path:
    if not (REAL_SPIDER / "dev.json").is_file():
        pytest.skip(f"real Spider data not found at {REAL_SPIDER} ({ABSENT})")
    return REAL_SPIDER


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, sample_spider) -> Path:
    from tests.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"), sample_spider)


def mmlu_subjects() -> list[str]:
    """The 57 subjects of the harness's own mmlu task definitions."""
    import lm_eval

    folder = Path(lm_eval.__file__).parent / "tasks" / "mmlu" / "default"
    return sorted(p.stem.removeprefix("mmlu_") for p in folder.glob("mmlu_*.yaml"))


@pytest.fixture(scope="session")
def synthetic_mmlu(tmp_path_factory) -> Path:
    """An MMLU release in the original layout with every subject and a few made-up questions each.

    Answers cycle A, B, C, D, A, ... per subject, so a model that always answers A is right on rows 0, 4, ...
    """
    import csv

    root = tmp_path_factory.mktemp("mmlu-release")
    for folder, n in (("test", 3), ("val", 1), ("dev", 5)):
        (root / "data" / folder).mkdir(parents=True)
        for subject in mmlu_subjects():
            with (root / "data" / folder / f"{subject}_{folder}.csv").open("w", newline="") as f:
                writer = csv.writer(f)
                for i in range(n):
                    writer.writerow([f"{folder} question {i} about {subject}?", "w", "x", "y", "z", "ABCD"[i % 4]])
    return root


@pytest.fixture(scope="session")
def sample_gsm8k(tmp_path_factory) -> Path:
    from tradeoff.gsm8k_sample import write_gsm8k_sample

    return write_gsm8k_sample(tmp_path_factory.mktemp("gsm8k"), n_train=6, n_test=3)


HUMANEVAL_PROBLEMS = [  # the release's fields; the first canonical solution passes, the second fails its test
    {
        "task_id": "Sample/0",
        "prompt": 'def add(a: int, b: int) -> int:\n    """Return a + b."""\n',
        "canonical_solution": "    return a + b\n",
        "test": "def check(candidate):\n    assert candidate(2, 3) == 5\n",
        "entry_point": "add",
    },
    {
        "task_id": "Sample/1",
        "prompt": 'def double(x: int) -> int:\n    """Return 2 * x."""\n',
        "canonical_solution": "    return x + 1\n",
        "test": "def check(candidate):\n    assert candidate(4) == 8\n",
        "entry_point": "double",
    },
]


@pytest.fixture(scope="session")
def sample_humaneval(tmp_path_factory) -> Path:
    import gzip
    import json

    path = tmp_path_factory.mktemp("humaneval") / "HumanEval.jsonl.gz"
    with gzip.open(path, "wt") as f:
        f.writelines(json.dumps(p) + "\n" for p in HUMANEVAL_PROBLEMS)
    return path
