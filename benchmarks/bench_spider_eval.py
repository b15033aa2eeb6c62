"""Whole-process wall time of `lm_eval --tasks spider_exec` (or other tasks) for several settings, one after another.

    python -m benchmarks.bench_spider_eval --model /tmp/study/base-models/<converted> --spider_dir /tmp/data/spider \
        --variants "b256=--batch_size 256" "b512=--batch_size 512" "b1024=--batch_size 1024" --json out.json

Each variant is one fresh `lm_eval` process (model load, task build, generation, scoring: what a user waits for)
over the executable Spider dev questions, greedy, chat template, at most 256 new tokens. A variant's flags are
appended to the common command, so `--batch_size`, `--model_args` extras (e.g. `attn_implementation=eager`
through `--extra_model_args`) or `--limit` can differ. Reports wall time, generation time (lm-eval's progress
bar from the first to the last request) and execution accuracy, which should agree across variants up to
batch-dependent numerics. A variant's flags may override the task (`--tasks mmlu`) and may start with
`--accelerate_config FILE` to run lm-eval data-parallel over several GPUs, as `accelerate launch -m lm_eval` does:
    "dp2=--accelerate_config harness_configs/accelerate/multi_gpu.yaml --batch_size 1024"
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.launchers import split_launcher

ROOT = Path(__file__).resolve().parent.parent

PROGRESS = re.compile(r"Running generate_until requests:\s+\d+%\|[^|]*\|\s*(\d+)/(\d+) \[(\d+):(\d+)")


def generation_seconds(log: str) -> float | None:
    """The elapsed time lm-eval's generation bar showed when it reached the last request."""
    done = [m for m in PROGRESS.finditer(log) if m.group(1) == m.group(2)]
    return int(done[-1].group(3)) * 60 + int(done[-1].group(4)) if done else None


def run_variant(args, name: str, flags: str) -> dict:
    launcher, flags = split_launcher(flags)
    with tempfile.TemporaryDirectory() as scratch:
        out = str(Path(args.output_dir) / name) if args.output_dir else scratch
        model_args = ",".join(filter(None, [f"pretrained={args.model}", "dtype=bfloat16", args.extra_model_args]))
        tasks = [] if "--tasks" in shlex.split(flags) else ["--tasks", "spider_exec"]  # lm-eval joins repeated --tasks
        command = [
            *launcher,
            "-m",
            "lm_eval",
            "--model",
            "hf",
            "--model_args",
            model_args,
            *tasks,
            "--include_path",
            str(ROOT / "tradeoff_tasks"),
            "--metadata",
            json.dumps({"spider_dir": args.spider_dir}),
            "--apply_chat_template",
            "--gen_kwargs",
            "max_gen_toks=256",
            "--device",
            args.device,
            "--output_path",
            out,
            *(["--log_samples"] if args.output_dir else []),
            *shlex.split(flags),
        ]
        started = time.perf_counter()
        proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
        wall = time.perf_counter() - started
        if args.logs:  # lm-eval's log lines carry timestamps: start-up, generation and scoring can be told apart
            Path(args.logs).mkdir(parents=True, exist_ok=True)
            (Path(args.logs) / f"{name}.log").write_text(proc.stderr)
        if proc.returncode:
            return {"flags": flags, "error": proc.stderr[-800:]}
        [results] = Path(out).rglob("results_*.json")
        results = json.loads(results.read_text())
    spider = results["results"].get("spider_exec", {})
    mmlu = results["results"].get("mmlu", {})
    return {
        "flags": flags,
        "wall_s": round(wall, 1),
        "generation_s": generation_seconds(proc.stderr),
        "exec_match": spider.get("exec_match,exec"),
        "mmlu_acc": mmlu.get("acc,none"),
        "questions": {task: n["effective"] for task, n in results.get("n-samples", {}).items()},
        "command": shlex.join(command),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="HF model folder (a GGUF: use the sweep's converted copy)")
    parser.add_argument("--spider_dir", required=True)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--extra_model_args", default="", help="appended to every variant's --model_args")
    parser.add_argument("--variants", nargs="+", default=["b512=--batch_size 512"], help="NAME=LM_EVAL_FLAGS")
    parser.add_argument("--json", help="write the results here too")
    parser.add_argument("--logs", help="keep each variant's lm-eval log (stderr) in this folder as NAME.log")
    parser.add_argument("--output_dir", help="keep each variant's lm-eval results and per-sample logs in DIR/NAME")
    args = parser.parse_args()
    results = {}
    for variant in args.variants:
        name, _, flags = variant.partition("=")
        results[name] = run_variant(args, name, flags)
        print(f"{name}: {json.dumps({k: v for k, v in results[name].items() if k != 'command'})}", flush=True)
        if args.json:  # after every variant, so that a run cut off by a time limit keeps what finished
            Path(args.json).write_text(json.dumps({"command": shlex.join(sys.argv), "results": results}, indent=1))
    return 0 if all("wall_s" in r for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
