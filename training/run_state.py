"""What makes a training run resumable and reproducible: its settings, checkpoints and training_meta.json
(with what the trainer measured: how many examples max_length dropped or cut, tokens/s, peak memory).

A run directory holds run_settings.json (written at the start), checkpoint-N/ folders, and, once finished,
the adapter plus training_meta.json. A restart resumes from the last *complete* checkpoint, and only if the
settings that shape the result (lr, seed, data, model, LoRA, quantization, schedule) are unchanged:
the Trainer would otherwise silently keep the old schedule.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from tradeoff_tasks.records import write_json_atomically

if TYPE_CHECKING:  # the argument groups live in sft.py, which imports this module
    from training.sft import ModelArguments, SpiderArguments, TrainingArguments

SETTINGS_FILE = "run_settings.json"
META_FILE = "training_meta.json"


class RunStateError(RuntimeError):
    """A run directory that cannot be (re)used as asked; the message is one line."""


def last_complete_checkpoint(output_dir: Path) -> Path | None:
    """The newest checkpoint whose trainer_state.json (the Trainer writes it last) is readable JSON."""
    numbered = []
    for path in output_dir.glob("checkpoint-*"):
        match = re.fullmatch(r"checkpoint-(\d+)", path.name)
        if match:
            numbered.append((int(match.group(1)), path))
    for _, path in sorted(numbered, reverse=True):
        try:
            json.loads((path / "trainer_state.json").read_text())
            return path
        except (OSError, json.JSONDecodeError):
            continue  # killed while saving: fall back to the one before
    return None


def prepare_run_dir(output_dir: Path, settings: dict, overwrite: bool) -> Path | None:
    """Check the directory against this run's settings; return the checkpoint to resume from, if any."""
    finished = (output_dir / META_FILE).is_file()
    if finished and not overwrite:
        raise RunStateError(
            f"{output_dir}: a finished run is already there; pass --overwrite_output_dir true "
            "to train again, or choose another --output_dir"
        )
    if overwrite:
        for path in output_dir.glob("checkpoint-*"):
            shutil.rmtree(path)
        for name in (SETTINGS_FILE, META_FILE):
            (output_dir / name).unlink(missing_ok=True)
    checkpoint = last_complete_checkpoint(output_dir) if output_dir.is_dir() else None
    settings_path = output_dir / SETTINGS_FILE
    if checkpoint is not None and settings_path.is_file():
        previous = json.loads(settings_path.read_text())
        changed = sorted(k for k in set(previous) | set(settings) if previous.get(k) != settings.get(k))
        if changed:
            raise RunStateError(
                f"{output_dir}: refusing to resume, settings differ from the interrupted run ({', '.join(changed)}); "
                "use another --output_dir or --overwrite_output_dir true"
            )
    output_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomically(settings_path, settings)
    return checkpoint


def run_settings(
    spider: SpiderArguments,
    model: ModelArguments,
    train: TrainingArguments,
    data_sha256: str,
    n_rows: dict,
    quantize: bool,
    world_size: int,
) -> dict:
    """Everything that shapes the adapter; a resume with any of these changed is refused."""
    return {
        "learning_rate": train.learning_rate,
        "seed": train.seed,
        "data_sha256": data_sha256,
        "rows": n_rows,
        "spider": asdict(spider) | {"spider_dir": None},  # the location may move; the data hash pins the content
        "base_model": model.model_name_or_path,
        "base_model_revision": model.model_revision,
        "gguf_file": model.gguf_file,
        "quantization": "4bit-nf4-double-quant" if quantize else "none",
        "lora": {
            "r": model.lora_r,
            "alpha": model.lora_alpha,
            "dropout": model.lora_dropout,
            "target_modules": model.lora_target_modules,
            "in_base_dtype": model.adapters_in_base_dtype,
        },
        "effective_batch_size": train.per_device_train_batch_size * train.gradient_accumulation_steps * world_size,
        "num_train_epochs": train.num_train_epochs,
        "max_steps": train.max_steps,
        "lr_scheduler_type": getattr(train.lr_scheduler_type, "value", train.lr_scheduler_type),
        "warmup_steps": train.warmup_steps,
        "max_length": train.max_length,
        "packing": train.packing,
        "padding_free": train.padding_free,
        "weight_decay": train.weight_decay,
        "train_sampling_strategy": train.train_sampling_strategy,
    }


def report_truncation(trainer, n_rows: int, max_length: int | None) -> dict:
    """trl drops examples whose completion max_length cut off entirely, and cuts others mid-SQL; both would
    quietly change what is learned, so say so on stderr and keep the counts for training_meta.json."""
    used = len(trainer.train_dataset)
    truncated = sum(len(ids) >= max_length for ids in trainer.train_dataset["input_ids"]) if max_length else 0
    if used < n_rows or truncated:
        print(
            f"sft.py: warning: of {n_rows} training examples {n_rows - used} were dropped (prompt longer than "
            f"max_length={max_length}) and {truncated} cut short; raise --max_length",
            file=sys.stderr,
        )
    return {"train_examples": n_rows, "train_examples_used": used, "train_examples_truncated": truncated}


def throughput(trainer, train_metrics: dict) -> dict:
    """Real (non-padding) tokens per second of this process's training, and peak GPU memory."""
    import torch

    tokens = next((e["num_tokens"] for e in reversed(trainer.state.log_history) if "num_tokens" in e), None)
    runtime = train_metrics.get("train_runtime")
    info = {
        "num_tokens": tokens,
        "train_runtime_s": runtime,
        "tokens_per_second": round(tokens / runtime, 1) if tokens and runtime else None,
    }
    if torch.cuda.is_available():
        info["peak_gpu_memory_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    return info
