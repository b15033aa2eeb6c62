"""Run training/sft.py as users do (a subprocess), on the tiny CPU config."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.conftest import TINY_CONFIG_PATH as TINY_CONFIG  # noqa: E402


def sft_command(model: Path, spider: Path, out: Path, *extra: str, launcher: tuple[str, ...] = ()) -> list[str]:
    script = str(ROOT / "training" / "sft.py")
    runner = list(launcher) if launcher else [sys.executable]
    return [
        *runner,
        script,
        "--config",
        str(TINY_CONFIG),
        "--model_name_or_path",
        str(model),
        "--spider_dir",
        str(spider),
        "--output_dir",
        str(out),
        *extra,
    ]


def run_sft(*args, launcher: tuple[str, ...] = (), timeout: int = 600, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        sft_command(*args, launcher=launcher, **kwargs),
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=timeout,
    )


def meta(out: Path) -> dict:
    return json.loads((out / "training_meta.json").read_text())


def losses(out: Path) -> list[float]:
    return [entry["loss"] for entry in meta(out)["loss_history"] if "loss" in entry]


# The shipped DDP accelerate config over two processes (gloo on CPUs: accelerate needs --num_processes there).
DDP_LAUNCH = (
    sys.executable,
    "-m",
    "accelerate.commands.launch",
    "--config_file",
    str(ROOT / "harness_configs" / "accelerate" / "multi_gpu.yaml"),
    "--num_processes",
    "2",
)
