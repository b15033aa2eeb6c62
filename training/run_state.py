"""What makes a training run resumable and reproducible: its settings, checkpoints and training_meta.json.

A run directory holds run_settings.json (written at the start), checkpoint-N/ folders, and, once finished,
the adapter plus training_meta.json. A restart resumes from the last *complete* checkpoint, and only if the
settings that shape the result (lr, seed, data, model, LoRA, quantization, schedule) are unchanged:
the Trainer would otherwise silently keep the old schedule.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
from importlib import metadata
from pathlib import Path

SETTINGS_FILE = "run_settings.json"
META_FILE = "training_meta.json"
LIBRARIES = ("torch", "transformers", "peft", "trl", "bitsandbytes", "accelerate", "datasets", "lm_eval")


class RunStateError(RuntimeError):
    """A run directory that cannot be (re)used as asked; the message is one line."""


def write_json_atomically(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".partial")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))
    os.replace(tmp, path)


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
        raise RunStateError(f"{output_dir}: a finished run is already there; pass --overwrite_output_dir true "
                            "to train again, or choose another --output_dir")
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


def library_versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name.replace("_", "-"))
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    versions["python"] = platform.python_version()
    return versions


def hardware() -> dict:
    import torch

    info = {"platform": platform.platform(), "cpu_count": os.cpu_count(), "cuda": torch.cuda.is_available()}
    if torch.cuda.is_available():
        info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return info
