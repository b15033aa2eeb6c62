"""Where a log-likelihood probe's time goes: the harness's own HF model on a sample of the probe's real requests.

    python -m benchmarks.profile_loglikelihood --model DIR [--peft ADAPTER] --tasks mmlu_continuation \
        --include_path tradeoff_tasks --every 5 --batch_size 32 [--device cuda] [--profile] [--json OUT]

Builds the probe's requests as the harness does and keeps every `--every`-th question with all of its answer
options (the harness groups a question's options, and sorts by length, so this keeps both the grouping and the
length mix). Runs lm-eval's `loglikelihood` on them as the sweep's evaluation process does (requests tokenized
in batches, tradeoff/batched_tokenize.py) twice, untimed then timed, and prints requests per second. With
`--profile` a third run goes under torch.profiler: how much of its wall time the device was busy, and the
ops with the most host and device time. A pass that keeps the device busy a small share of its wall time is
bound by the host's work per request or per batch, not by the model's arithmetic.
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from benchmarks.bench_tokenize import probe_requests


def sample_questions(requests: list, every: int) -> list:
    """Every `every`-th question of each task, with all of its requests (answer options)."""
    return [r for r in requests if r.doc_id % every == 0]


def build_model(args):
    from lm_eval.models.huggingface import HFLM

    from tradeoff import batched_tokenize

    class Evaluated(HFLM):  # the evaluation process's model: the harness's, with batched tokenizing
        pass

    batched_tokenize.enable(Evaluated)
    kwargs = {"pretrained": args.model, "dtype": args.dtype, "device": args.device, "batch_size": args.batch_size}
    return Evaluated(**kwargs, **({"peft": args.peft} if args.peft else {}))


def timed_pass(lm, requests) -> float:
    start = time.perf_counter()
    lm.loglikelihood(requests, disable_tqdm=True)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start


def profiled_pass(lm, requests, rows: int) -> dict:
    activities = [torch.profiler.ProfilerActivity.CPU]
    if torch.cuda.is_available():
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as prof:
        wall = timed_pass(lm, requests)
    events = prof.key_averages()
    busy_us = sum(e.self_device_time_total for e in events if e.device_type != torch.autograd.DeviceType.CPU)
    print(events.table(sort_by="self_cpu_time_total", row_limit=rows, max_name_column_width=60))
    if busy_us:
        print(events.table(sort_by="self_device_time_total", row_limit=rows, max_name_column_width=60))
    return {
        "profiled_wall_s": round(wall, 2),
        "device_busy_share": round(busy_us / 1e6 / wall, 3) if busy_us else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.profile_loglikelihood", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--model", required=True, help="hub id or local folder of the (base) model")
    parser.add_argument("--peft", help="an adapter on it, as lm_eval's peft=")
    parser.add_argument("--tasks", nargs="+", default=["mmlu_continuation"])
    parser.add_argument("--include_path", help="extra task definitions, as lm_eval's --include_path")
    parser.add_argument("--every", type=int, default=5, help="keep every N-th question (1: all)")
    parser.add_argument("--batch_size", default="32")
    parser.add_argument("--dtype", default="bfloat16")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--profile", action="store_true", help="a third run under torch.profiler, with its tables")
    parser.add_argument("--rows", type=int, default=15, help="rows of each profiler table")
    parser.add_argument("--json", help="also write the measurement here")
    args = parser.parse_args(argv)
    requests = sample_questions(probe_requests(args.tasks, args.include_path), args.every)
    lm = build_model(args)
    timed_pass(lm, requests)  # warm-up: kernels chosen, allocator filled
    seconds = timed_pass(lm, requests)
    measured = {
        "tasks": args.tasks,
        "requests": len(requests),
        "batch_size": args.batch_size,
        "device": torch.cuda.get_device_name() if args.device.startswith("cuda") else args.device,
        "wall_s": round(seconds, 2),
        "requests_per_s": round(len(requests) / seconds, 1),
    }
    print(f"{len(requests)} requests ({' + '.join(args.tasks)}), batch {args.batch_size}: {seconds:.2f} s, "
          f"{measured['requests_per_s']} requests/s")  # fmt: skip
    if args.profile:
        measured |= profiled_pass(lm, requests, args.rows)
        busy = measured["device_busy_share"]
        print(f"profiled: {measured['profiled_wall_s']} s" + (f", device busy {busy:.1%} of it" if busy else ""))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(measured, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
