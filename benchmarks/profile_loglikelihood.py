"""Where a log-likelihood probe's time goes: the harness's own HF model on a sample of the probe's real requests.

    python -m benchmarks.profile_loglikelihood --model DIR [--peft ADAPTER] --tasks mmlu_continuation \
        --include_path tradeoff_tasks --every 5 --batch_size 32 64 [--dtype bfloat16 float32] [--device cuda] \
        [--profile] [--json OUT]

Builds the probe's requests as the harness does and keeps every `--every`-th question with all of its answer
options (the harness groups a question's options, and sorts by length, so this keeps both the grouping and the
length mix). For each model dtype (the model loaded once per dtype) and each batch size, runs lm-eval's
`loglikelihood` on them as the sweep's evaluation process does (requests tokenized in batches,
tradeoff/batched_tokenize.py) twice, untimed then timed, and prints requests per second, the peak device memory,
and against the first dtype and batch size the largest change of a log-likelihood and how many questions'
chosen answers change (batch sizes change the last bits of bf16 arithmetic; `--dtype bfloat16 float32` shows
what bf16 itself decides), and how many questions have a tie for the best option. With `--profile` one more run
at the first dtype and batch size goes under torch.profiler: how much of its wall time the device
was busy, and the ops with the most host and device time. A pass that keeps the device busy a small share of
its wall time is bound by the host's work per request or per batch, not by the model's arithmetic.
"""

from __future__ import annotations

import argparse
import gc
import json
import time

import torch

from benchmarks.bench_tokenize import probe_requests


def sample_questions(requests: list, every: int) -> list:
    """Every `every`-th question of each task, with all of its requests (answer options)."""
    return [r for r in requests if r.doc_id % every == 0]


def _options_by_question(requests: list, scores: list) -> dict[tuple, list[tuple[int, float]]]:
    """Each question's options as (option index, log-likelihood), in option order."""
    options: dict[tuple, list] = {}
    for request, (loglikelihood, _) in zip(requests, scores, strict=True):
        options.setdefault((request.task_name, request.doc_id), []).append((request.idx, loglikelihood))
    return {key: sorted(found) for key, found in options.items()}


def chosen_answers(requests: list, scores: list) -> dict[tuple, int]:
    """Each question's highest-scoring option (the first among equals, as the harness's argmax)."""
    return {
        key: max(found, key=lambda option: option[1])[0]
        for key, found in _options_by_question(requests, scores).items()
    }


def tied_questions(requests: list, scores: list) -> int:
    """Questions whose two best options have exactly the same log-likelihood (the harness then picks the first);
    bf16's 8 significant bits make these common, float32 (--dtype) makes them rare."""
    tied = 0
    for found in _options_by_question(requests, scores).values():
        best = sorted((loglikelihood for _, loglikelihood in found), reverse=True)
        tied += len(best) > 1 and best[0] == best[1]
    return tied


def build_model(args, dtype: str):
    from lm_eval.models.huggingface import HFLM

    from tradeoff import batched_tokenize

    class Evaluated(HFLM):  # the evaluation process's model: the harness's, with batched tokenizing
        pass

    batched_tokenize.enable(Evaluated)
    kwargs = {"pretrained": args.model, "dtype": dtype, "device": args.device, "batch_size": args.batch_size[0]}
    return Evaluated(**kwargs, **({"peft": args.peft} if args.peft else {}))


def timed_pass(lm, requests) -> tuple[float, list]:
    start = time.perf_counter()
    scores = lm.loglikelihood(requests, disable_tqdm=True)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - start, scores


def at_batch_size(lm, requests, batch_size: int) -> tuple[dict, list]:
    """A warm-up pass and a timed pass at this batch size: the measurement, and the timed pass's scores."""
    lm.batch_size_per_gpu = batch_size  # as the evaluation process sets each run's --batch_size
    timed_pass(lm, requests)  # kernels chosen, allocator filled
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    seconds, scores = timed_pass(lm, requests)
    peak = torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else None
    measured = {
        "batch_size": batch_size,
        "wall_s": round(seconds, 2),
        "requests_per_s": round(len(requests) / seconds, 1),
        "peak_memory_gib": round(peak, 2) if peak is not None else None,
    }
    return measured, scores


def profiled_pass(lm, requests, rows: int) -> dict:
    activities = [torch.profiler.ProfilerActivity.CPU]
    if torch.cuda.is_available():
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as prof:
        wall, _ = timed_pass(lm, requests)
    events = prof.key_averages()
    busy_us = sum(e.self_device_time_total for e in events if e.device_type != torch.autograd.DeviceType.CPU)
    print(events.table(sort_by="self_cpu_time_total", row_limit=rows, max_name_column_width=60))
    if busy_us:
        print(events.table(sort_by="self_device_time_total", row_limit=rows, max_name_column_width=60))
    return {
        "profiled_wall_s": round(wall, 2),
        "device_busy_share": round(busy_us / 1e6 / wall, 3) if busy_us else None,
    }


def against_first(requests: list, first: list, scores: list) -> dict:
    before, after = chosen_answers(requests, first), chosen_answers(requests, scores)
    return {
        "largest_loglikelihood_change": max(abs(a[0] - b[0]) for a, b in zip(first, scores, strict=True)),
        "questions_answered_otherwise": sum(before[question] != after[question] for question in before),
        "tied_questions": tied_questions(requests, scores),
    }


def describe(run: dict, first: dict) -> str:
    memory = f", peak {run['peak_memory_gib']} GiB" if run["peak_memory_gib"] is not None else ""
    return (
        f"{run['dtype']}, batch {run['batch_size']}: {run['wall_s']} s, {run['requests_per_s']} requests/s{memory}; "
        f"vs {first['dtype']}, batch {first['batch_size']}: {run['questions_answered_otherwise']} questions "
        f"answered otherwise, log-likelihoods within {run['largest_loglikelihood_change']:.3g}; "
        f"{run['tied_questions']} questions with a tie for the best option"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.profile_loglikelihood", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--model", required=True, help="hub id or local folder of the (base) model")
    parser.add_argument("--peft", help="an adapter on it, as lm_eval's peft=")
    parser.add_argument("--tasks", nargs="+", default=["mmlu_continuation"])
    parser.add_argument("--include_path", help="extra task definitions, as lm_eval's --include_path")
    parser.add_argument("--every", type=int, default=5, help="keep every N-th question (1: all)")
    parser.add_argument("--batch_size", type=int, nargs="+", default=[32], help="one or more, compared in order")
    parser.add_argument("--dtype", nargs="+", default=["bfloat16"], help="model dtypes, compared in order")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--profile", action="store_true", help="one more run under torch.profiler, with its tables")
    parser.add_argument("--rows", type=int, default=15, help="rows of each profiler table")
    parser.add_argument("--json", help="also write the measurement here")
    args = parser.parse_args(argv)
    requests = sample_questions(probe_requests(args.tasks, args.include_path), args.every)
    runs, first, profiled = [], None, {}
    for dtype in args.dtype:
        lm = build_model(args, dtype)
        for batch_size in args.batch_size:
            measured, scores = at_batch_size(lm, requests, batch_size)
            first = first or scores
            runs.append({"dtype": dtype, **measured, **against_first(requests, first, scores)})
            print(describe(runs[-1], runs[0]), flush=True)
        if args.profile and not profiled:
            lm.batch_size_per_gpu = args.batch_size[0]
            profiled = profiled_pass(lm, requests, args.rows)
            busy = profiled["device_busy_share"]
            print(f"profiled: {profiled['profiled_wall_s']} s" + (f", device busy {busy:.1%} of it" if busy else ""))
        del lm  # the next dtype's model replaces it
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    device = torch.cuda.get_device_name() if args.device.startswith("cuda") else args.device
    measured = {"tasks": args.tasks, "requests": len(requests), "device": device, "runs": runs, **profiled}
    print(f"{len(requests)} requests ({' + '.join(args.tasks)}) on {device}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(measured, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
