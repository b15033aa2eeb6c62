"""Spider training rows for trl's SFTTrainer, with prompts from the same module as the spider_exec task.

Plain mode gives {"prompt": str, "completion": str}; chat mode gives the conversational prompt/completion
form, which trl renders with the tokenizer's chat template exactly as lm-eval's --apply_chat_template does.
"""

from __future__ import annotations

import hashlib
import json

import datasets

from tradeoff_tasks import prompts
from tradeoff_tasks.spider_data import build_rows


def sft_example(question: str, schema: str, sql: str, chat: bool) -> dict:
    prompt = prompts.build_prompt(question, schema)
    if chat:
        return {"prompt": prompts.chat_messages(prompt), "completion": [{"role": "assistant", "content": sql}]}
    return {"prompt": prompt, "completion": sql}


def build_sft_dataset(
    spider_dir,
    split: str = "train",
    chat: bool = False,
    sample_rows: int = 0,
    eval_fraction: float = 0.02,
    max_samples: int | None = None,
    seed: int = 42,
) -> tuple[datasets.DatasetDict, str]:
    """Train/eval splits of prompt-completion rows, and the sha256 of exactly those rows.

    Only tables.json and the questions are needed (sample_rows > 0 also reads the databases that exist).
    """
    rows = build_rows(spider_dir, split, sample_rows=sample_rows, require_databases=False)
    if max_samples:
        rows = rows[:max_samples]
    examples = [sft_example(r["question"], r["schema"], r["query"], chat) for r in rows]
    digest = hashlib.sha256(json.dumps(examples, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    dataset = datasets.Dataset.from_list(examples)
    if eval_fraction <= 0:
        return datasets.DatasetDict({"train": dataset}), digest
    parts = dataset.train_test_split(test_size=eval_fraction, seed=seed)
    return datasets.DatasetDict({"train": parts["train"], "eval": parts["test"]}), digest


def truncate_tokenized(dataset: datasets.Dataset, max_length: int, keep_end: bool = False) -> datasets.Dataset:
    """Cut trl-tokenized rows (input_ids + labels) to max_length, keeping the start (or the end), and drop rows
    left without a single trained token: what trl itself does, for the padding-free batches where it refuses
    max_length."""
    kept = slice(-max_length, None) if keep_end else slice(None, max_length)

    def cut(row):
        return {"input_ids": row["input_ids"][kept], "labels": row["labels"][kept]}

    cut_rows = dataset.map(cut, desc="Truncating")
    return cut_rows.filter(lambda row: any(label != -100 for label in row["labels"]), desc="Dropping empty rows")
