"""A whole study on one GPU against the same study on several, measured in the same run.

    python -m benchmarks.bench_study_gpus STUDY.yaml [--set KEY=VALUE ...] [--gpus 0,1] --out bench.json

Both sides run `tradeoff sweep STUDY` from scratch, each with its own results and runs folders, after the base
model has been converted once (so neither side pays for it). The one-GPU side pins every step to the first GPU
with the study's own `jobs` and `training_jobs`; the other spreads them over all `--gpus` with that many times
the steps at once (independent trainings and evaluations side by side; add `--set training_gpus=N` and an
accelerate launcher to train each adapter over several GPUs instead). Prints each side's wall time, the ratio,
and every model's Spider EX on both sides (training on other GPUs is not bit-for-bit the same, so close, not
equal, is what to expect).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from benchmarks.launchers import timed_run
from tradeoff.evaluation import convert_base
from tradeoff.study import load_study


def _sweep(study: str, overrides: list[str], folder: Path) -> float:
    command = [sys.executable, "-m", "tradeoff.cli", "sweep", study]
    for override in [*overrides, f"results_dir={folder / 'results'}", f"runs_dir={folder / 'runs'}"]:
        command += ["--set", override]
    return timed_run(command, folder.parent / f"{folder.name}.log")


def _spider_ex(results: Path) -> dict[str, float]:
    rows = json.loads((results / "summary.json").read_text())["models"]
    return {row["model"]: row["spider_ex"] for row in rows}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("study")
    parser.add_argument("--set", action="append", default=[], dest="overrides", metavar="KEY=VALUE")
    parser.add_argument(
        "--gpus", default="0,1", help="the GPUs of the several-GPU side; the first is the one-GPU side's"
    )
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    gpus = [int(g) for g in args.gpus.split(",")]
    study = load_study(args.study, args.overrides)
    if study.gguf_file:
        convert_base(study)  # into the shared cache both sides read
    work = Path(tempfile.mkdtemp(prefix="bench-study-gpus-"))
    sides = {
        "one_gpu": [f"gpus=[{gpus[0]}]"],
        "gpus": [
            f"gpus={gpus}",
            f"jobs={study.jobs * len(gpus)}",
            f"training_jobs={study.training_jobs * len(gpus)}",
        ],
    }
    wall = {}
    for side, pinning in sides.items():
        wall[side] = _sweep(args.study, [*args.overrides, *pinning], work / side)
        print(f"{side}: {wall[side]:.1f} s", flush=True)
    result = {
        "study": args.study,
        "overrides": args.overrides,
        "sides": sides,
        "wall_s": {side: round(s, 1) for side, s in wall.items()},
        "speedup": round(wall["one_gpu"] / wall["gpus"], 2),
        "spider_ex": {side: _spider_ex(work / side / "results") for side in sides},
        "work_dir": str(work),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"one GPU {result['wall_s']['one_gpu']} s, GPUs {gpus} {result['wall_s']['gpus']} s: {result['speedup']}x")


if __name__ == "__main__":
    main()
