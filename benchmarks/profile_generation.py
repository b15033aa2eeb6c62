"""Where spider_exec's generation time goes: one batch of the longest dev prompts, as lm-eval builds it.

    python -m benchmarks.profile_generation --model /tmp/study/base-models/<converted> --spider_dir /tmp/data/spider \
        --batch_size 1024 --steps 48 [--cache static] [--grouped_decode] [--no_cudnn_sdp] [--profile]

Renders the chat-template prompts of the executable dev questions, takes the `--batch_size` longest (lm-eval
sorts by length and starts with the longest batch), left-pads them as lm-eval's HF model does, and generates
`--steps` tokens greedily with lm-eval's own stop-sequence criteria twice (the first time every decode step meets a
key/value length the process has not seen before, as in a real run; the second time it has), then without the
criteria, then (with `--profile`) once more under torch.profiler, printing the ops that took the most time.
`--cache static` generates as spider_exec does (a static cache, not compiled); `--grouped_decode` attends as
spider_exec does by default (tradeoff_tasks/grouped_decode.py); `--no_cudnn_sdp` turns torch's cuDNN attention
backend off for the whole run. Each is there to compare with and without.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import yaml
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

from tradeoff_tasks import prompts
from tradeoff_tasks.grouped_decode import use_grouped_decode
from tradeoff_tasks.spider_data import build_rows

ROOT = Path(__file__).resolve().parent.parent


class _TaskYaml(yaml.SafeLoader):
    """Reads the task YAML as data; its `!function` hooks are not needed here."""


_TaskYaml.add_constructor("!function", lambda loader, node: None)


def task_stop_sequences() -> list[str]:
    """spider_exec.yaml's `until` (lm-eval adds the EOS text to it)."""
    task = yaml.load((ROOT / "tradeoff_tasks" / "spider_exec" / "spider_exec.yaml").read_text(), _TaskYaml)
    return task["generation_kwargs"]["until"]


def longest_batch(tokenizer, spider_dir: str, batch_size: int, device: str) -> dict:
    rows = build_rows(spider_dir, "dev")
    texts = [
        tokenizer.apply_chat_template(
            prompts.chat_messages(prompts.build_prompt(r["question"], r["schema"])),
            tokenize=False,
            add_generation_prompt=True,
        )
        for r in rows
    ]
    ids = sorted(tokenizer(texts, add_special_tokens=False)["input_ids"], key=len, reverse=True)
    tokenizer.padding_side = "left"
    if tokenizer.pad_token is None:  # as lm-eval's HF model configures it
        tokenizer.pad_token = tokenizer.unk_token or tokenizer.eos_token
    return tokenizer.pad({"input_ids": ids[:batch_size]}, return_tensors="pt").to(device)


def generate(model, tokenizer, batch: dict, steps: int, stop_criteria: bool, cache: str) -> float:
    from lm_eval.models.utils_hf import stop_sequences_criteria

    rows, length = batch["input_ids"].shape
    stops = task_stop_sequences() + [tokenizer.eos_token]
    criteria = stop_sequences_criteria(tokenizer, stops, length, rows) if stop_criteria else None
    config = GenerationConfig(
        max_new_tokens=steps,
        min_new_tokens=steps,
        do_sample=False,
        pad_token_id=tokenizer.pad_token_id,
        cache_implementation=cache,
        disable_compile=True,
    )
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    started = time.perf_counter()
    with torch.no_grad():
        model.generate(**batch, generation_config=config, stopping_criteria=criteria)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--spider_dir", required=True)
    parser.add_argument("--batch_size", type=int, default=512)
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--attn_implementation", default=None)
    parser.add_argument("--cache", default="dynamic", choices=["dynamic", "static"])
    parser.add_argument("--grouped_decode", action="store_true", help="tradeoff_tasks.grouped_decode, as spider_exec")
    parser.add_argument("--no_cudnn_sdp", action="store_true", help="torch.backends.cuda.enable_cudnn_sdp(False)")
    parser.add_argument("--profile", action="store_true", help="add a torch.profiler table of one more run")
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.no_cudnn_sdp:
        torch.backends.cuda.enable_cudnn_sdp(False)
    if args.grouped_decode:
        use_grouped_decode()
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    model = (
        AutoModelForCausalLM.from_pretrained(
            args.model, dtype=torch.bfloat16, attn_implementation=args.attn_implementation
        )
        .to(device)
        .eval()
    )
    batch = longest_batch(tokenizer, args.spider_dir, args.batch_size, device)
    shape = tuple(batch["input_ids"].shape)
    generate(model, tokenizer, batch, 2, True, args.cache)  # warm-up
    prefill = generate(model, tokenizer, batch, 1, False, args.cache)
    for label, with_stops in (("new lengths", True), ("seen lengths", True), ("seen lengths", False)):
        total = generate(model, tokenizer, batch, args.steps, with_stops, args.cache)
        print(
            f"batch {shape}: prefill {prefill:.2f} s; {args.steps} steps, {label}, "
            f"{'with' if with_stops else 'without'} lm-eval's stop criteria: "
            f"{(total - prefill) / (args.steps - 1) * 1000:.1f} ms per decode step",
            flush=True,
        )
    if not args.profile:
        return
    activities = [torch.profiler.ProfilerActivity.CPU]
    if device == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as prof:
        generate(model, tokenizer, batch, args.steps, True, args.cache)
    sort = "cuda_time_total" if device == "cuda" else "cpu_time_total"
    print(prof.key_averages().table(sort_by=sort, row_limit=25, max_name_column_width=60))


if __name__ == "__main__":
    main()
