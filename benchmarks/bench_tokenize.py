"""Benchmark: tokenizing the log-likelihood probes' requests, lm-eval's way (one call per request) vs
tradeoff/batched_tokenize.py (each distinct string once, in batches), in one run on this machine's CPU.

    python -m benchmarks.bench_tokenize --tokenizer Qwen/Qwen2.5-Coder-0.5B-Instruct --tasks mmlu mmlu_continuation \
        --include_path tradeoff_tasks [--gguf_file F] [--repeats 3]

The requests are the probes' real ones, built by the harness from its task definitions (with `--include_path`,
the local copies `tradeoff prepare-probes` wrote). TOKENIZERS_PARALLELISM is false, as under `lm_eval` (the
batched side allows all cores for its batches, as in the evaluation process). Prints each side's median wall
time, their ratio, and fails (exit 1) unless every request's context and continuation ids are identical.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time


def probe_requests(tasks: list[str], include_path: str | None) -> list:
    """Every request of these tasks, as the harness builds them (zero-shot, no chat template)."""
    from lm_eval.tasks import TaskManager

    requests = []
    for task in TaskManager(include_path=include_path).load(tasks)["tasks"].values():
        task.build_all_requests()
        requests += task.instances
    return requests


def stand_in_model(tokenizer):
    """HFLM's tokenizing part without a model: its own tok_encode and _encode_pair on this tokenizer."""
    from lm_eval.models.huggingface import HFLM

    lm = HFLM.__new__(HFLM)
    lm.tokenizer, lm.backend, lm.add_bos_token, lm.custom_prefix_token_id = tokenizer, "causal", None, None
    return lm


def stock(lm, requests) -> list:
    return [lm._encode_pair(*request.args) for request in requests]


def batched(lm, requests) -> list:
    from tradeoff.batched_tokenize import pretokenized

    with pretokenized(lm, requests):
        return stock(lm, requests)


def timed(function, *args) -> tuple[float, list]:
    start = time.perf_counter()
    out = function(*args)
    return time.perf_counter() - start, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_tokenize", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokenizer", required=True, help="hub id or local folder of the model's tokenizer")
    parser.add_argument("--gguf_file", help="read the tokenizer from this GGUF file in --tokenizer")
    parser.add_argument("--tasks", nargs="+", default=["mmlu", "mmlu_continuation"])
    parser.add_argument("--include_path", help="extra task definitions, as lm_eval's --include_path")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", help="also write the measurement here")
    args = parser.parse_args(argv)
    os.environ["TOKENIZERS_PARALLELISM"] = "false"  # as lm_eval's command sets it for the whole process
    from transformers import AutoTokenizer

    lm = stand_in_model(AutoTokenizer.from_pretrained(args.tokenizer, gguf_file=args.gguf_file))
    requests = probe_requests(args.tasks, args.include_path)
    times = {"stock": [], "batched": []}
    outputs = {}
    for _ in range(args.repeats):
        for name, function in (("stock", stock), ("batched", batched)):
            seconds, outputs[name] = timed(function, lm, requests)
            times[name].append(seconds)
    same = outputs["stock"] == outputs["batched"]
    medians = {name: statistics.median(t) for name, t in times.items()}
    result = {
        "tasks": args.tasks,
        "requests": len(requests),
        "tokenizer": args.tokenizer,
        "repeats": args.repeats,
        "seconds": times,
        "median_s": medians,
        "speedup": medians["stock"] / medians["batched"],
        "identical_ids": same,
    }
    print(
        f"{len(requests)} requests of {', '.join(args.tasks)}: lm-eval's tokenizing {medians['stock']:.1f} s, "
        f"batched {medians['batched']:.1f} s (median of {args.repeats}): {result['speedup']:.2f}x; "
        f"ids identical: {same}"
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
