"""Where a study's results live: the one home of the results folder's layout and its model tags.

    results/<study>/
      study.yaml, training_config.yaml, environment.json, commands.jsonl, logs/   (written by the sweep)
      training/<tag>.json                        each adapter's training_meta.json + its weights' sha256
      eval/<tag>/<suite>/results.json            lm-eval's results
      eval/<tag>/<suite>/evaluated_model.txt     "base" or the sha256 of the adapter weights evaluated
      eval/<tag>/<suite>/settings.json           the prompting and decoding settings it was evaluated with
      eval/<tag>/spider_exec/samples_spider_exec.jsonl.gz   lm-eval's per-sample log
      eval/<tag>/<probe>/questions.jsonl.gz      one line per question of a generality probe (samples.py)
      eval/<tag>/humaneval/cut_at_special_token.json   answers re-run cut at special-token text (humaneval_cut.py)

    runs/<study>/adapters/<tag>/                 each adapter (weights, training_meta.json, checkpoints)
    runs/<study>/probe-data/<source>/            local copies of the probes' data (tradeoff prepare-probes)
    runs/<study>/request-cache/<hash>/           lm-eval's request cache, with eval.cache_requests

A model tag is "base" or a trained adapter's learning rate and seed, "lr-<lr:g>-seed-<seed>"
(lr-0.0001-seed-42, lr-2e-05-seed-7).
"""

from __future__ import annotations

import json
from pathlib import Path

BASE = "base"
SPIDER = "spider_exec"  # every study's specialty; its generality probes are listed in tradeoff/probes.py
RESULTS_FILE = "results.json"
EVALUATED_MODEL_FILE = "evaluated_model.txt"
EVALUATED_SETTINGS_FILE = "settings.json"
SPIDER_SAMPLES_FILE = "samples_spider_exec.jsonl.gz"
QUESTIONS_FILE = "questions.jsonl.gz"
HUMANEVAL_CUT_FILE = "cut_at_special_token.json"
MMLU_CATEGORIES = ("mmlu_stem", "mmlu_humanities", "mmlu_social_sciences", "mmlu_other")


def lr_tag(lr: float) -> str:
    """A learning rate's name in reports (all its seeds together)."""
    return f"lr-{lr:g}"


def model_tag(lr: float, seed: int) -> str:
    return f"{lr_tag(lr)}-seed-{seed}"


def parse_tag(tag: str) -> tuple[float | None, int | None]:
    """(learning rate, seed) of a model tag; (None, None) for the base model."""
    if tag == BASE:
        return None, None
    lr, _, seed = tag.removeprefix("lr-").partition("-seed-")
    return float(lr), int(seed)


def tag_lr(tag: str) -> float | None:
    """The learning rate of a model tag; None for the base model."""
    return parse_tag(tag)[0]


def eval_dir(results: Path, tag: str, suite: str) -> Path:
    return Path(results) / "eval" / tag / suite


ADAPTER_SHA256_KEY = "adapter_sha256"  # in a training record: the weights it produced (evaluated_model.txt's)


def training_record(results: Path, tag: str) -> Path:
    return Path(results) / "training" / f"{tag}.json"


def adapter_dir(runs: Path, tag: str) -> Path:
    return Path(runs) / "adapters" / tag


def probe_data_dir(runs: Path) -> Path:
    return Path(runs) / "probe-data"


def recorded_weights(results: Path, tag: str) -> str | None:
    """The sha256 of the weights an adapter's training record names; None without a record, or for records from
    before they named them."""
    path = training_record(results, tag)
    return json.loads(path.read_text()).get(ADAPTER_SHA256_KEY) if path.is_file() else None


def recorded_settings(folder: Path) -> dict | None:
    """The settings a suite's folder was evaluated with; None for results from before they were recorded."""
    path = Path(folder) / EVALUATED_SETTINGS_FILE
    return json.loads(path.read_text()) if path.is_file() else None
