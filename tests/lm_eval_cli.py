"""Run the real `lm_eval` command line on spider_exec, offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def run_spider_exec(model_args: str, spider_dir: Path, out: Path, limit: int = 3, *extra: str) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "lm_eval",
        "--model",
        "hf",
        "--model_args",
        model_args,
        "--tasks",
        "spider_exec",
        "--include_path",
        "tradeoff_tasks",
        "--limit",
        str(limit),
        "--gen_kwargs",
        "max_gen_toks=8",
        "--metadata",
        json.dumps({"spider_dir": str(spider_dir)}),
        "--output_path",
        str(out),
        "--log_samples",
        "--device",
        "cpu",
        *extra,
    ]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=dict(os.environ), timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    [results_file] = out.rglob("results_*.json")
    [samples_file] = out.rglob("samples_spider_exec_*.jsonl")
    results = json.loads(results_file.read_text())
    results["samples"] = [json.loads(line) for line in samples_file.read_text().splitlines()]
    return results
