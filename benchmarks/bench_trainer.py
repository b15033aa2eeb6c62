"""Training throughput of a config against stock trl SFTTrainer settings: same model, data and machine.

    python -m benchmarks.bench_trainer --config harness_configs/sft_llama3_8b.yaml --model /tmp/llama8b \
        --spider_dir /tmp/data/spider --examples 800 --json results/bench-trainer-8b.json

Variants (each in a fresh process, so peak memory is its own; all through training/sft.py's build_trainer,
so model loading, 4-bit/LoRA settings and the Spider prompts are the same):
  stock   trl's SFTConfig defaults: batch 8, padded to the longest in a random batch, no packing, gradient
          checkpointing on (trl's default), gradient accumulation 1
  config  the config file as it is
  NAME=FLAGS  more, e.g. 'nockpt=--gradient_checkpointing false'; FLAGS may start with
          '--accelerate_config FILE' to launch that variant with accelerate (e.g. DDP or FSDP over every GPU:
          'ddp=--accelerate_config harness_configs/accelerate/multi_gpu.yaml')
Every variant trains one pass over the same --examples training questions (a seeded random sample of Spider
train), so all see the same lengths: a few steps would not do, since length-grouped batching starts with the
longest batch and batches of long examples use a GPU better. tokens/s counts real tokens (trl's num_tokens: no
padding) over the steps after --warmup; MFU uses the 6N convention: 6 x N x tokens/s / the card's peak dense
bf16 FLOP/s, N = every parameter of the base model.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.launchers import split_launcher

ROOT = Path(__file__).resolve().parent.parent

STOCK = (
    "--per_device_train_batch_size 8 --gradient_accumulation_steps 1 --gradient_checkpointing true "
    "--packing false --padding_free false --train_sampling_strategy random"
)
PEAK_BF16_TFLOPS = {"H100": 989.4, "H200": 989.4, "A100": 312.0}  # dense, SXM parts


def step_profiler(first: int, steps: int, out: str):
    """A Trainer callback running torch.profiler over steps first+1 .. first+steps; the table of the costliest ops
    goes to `out`."""
    import torch
    from transformers import TrainerCallback

    cuda = torch.cuda.is_available()

    class StepProfiler(TrainerCallback):
        profile = None

        def on_step_begin(self, args, state, control, **kwargs):
            if state.global_step == first:
                activities = [torch.profiler.ProfilerActivity.CPU] + (
                    [torch.profiler.ProfilerActivity.CUDA] if cuda else []
                )
                self.profile = torch.profiler.profile(activities=activities)
                self.profile.__enter__()

        def on_step_end(self, args, state, control, **kwargs):
            if self.profile is None or state.global_step != first + steps:
                return
            if cuda:
                torch.cuda.synchronize()
            self.profile.__exit__(None, None, None)
            sort = "cuda_time_total" if cuda else "cpu_time_total"
            table = self.profile.key_averages().table(sort_by=sort, row_limit=30, max_name_column_width=60)
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            Path(out).write_text(f"steps {first + 1}-{first + steps}, sorted by {sort}\n{table}\n")
            self.profile = None

    return StepProfiler()


def measure(
    argv: list[str], examples: int, warmup: int, profile_steps: int = 0, profile_out: str | None = None
) -> dict:
    """Train one pass over `examples` sampled questions in this process and time the steps after `warmup`
    (and after the `profile_steps` profiled ones, which the profiler slows down)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, TrainerCallback

    from training import varlen_attention
    from training.sft import build_trainer, parse

    marks = []

    class StepClock(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "num_tokens" in logs:  # logging_steps=1: one entry per step, after loss.item() syncs
                marks.append((time.perf_counter(), state.global_step, logs["num_tokens"]))

    spider, model_args, args = parse(
        argv
        + [
            "--num_train_epochs",
            "1",
            "--max_steps",
            "-1",
            "--logging_steps",
            "1",
            "--eval_fraction",
            "0",
            "--save_strategy",
            "no",
            "--report_to",
            "none",
            "--overwrite_output_dir",
            "true",
        ]
    )
    trainer, settings, _ = build_trainer(spider, model_args, args)
    sample = trainer.train_dataset.shuffle(seed=0).select(range(min(examples, len(trainer.train_dataset))))
    trainer.train_dataset = sample  # the dataloader is built from it when training starts
    trainer.add_callback(StepClock())
    profile_steps = profile_steps if profile_out else 0
    if profile_steps:
        trainer.add_callback(step_profiler(warmup, profile_steps, profile_out))
    started = time.perf_counter()
    trainer.train()
    train_wall = time.perf_counter() - started  # warm-up, compilation and profiled steps included
    (t0, s0, n0), (t1, s1, n1) = marks[warmup + profile_steps - 1], marks[-1]
    config = AutoConfig.from_pretrained(trainer.model.peft_config["default"].base_model_name_or_path)
    with torch.device("meta"):
        n_params = sum(p.numel() for p in AutoModelForCausalLM.from_config(config).parameters())
    card = torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"
    tokens_per_s = (n1 - n0) / (t1 - t0)  # trl gathers num_tokens over every rank
    world = trainer.accelerator.num_processes
    peak = next((v for k, v in PEAK_BF16_TFLOPS.items() if k in card), None)
    peaks = None
    if torch.cuda.is_available():  # each rank's own peak, gathered so the main process reports every GPU's
        mine = torch.tensor([torch.cuda.max_memory_allocated() / 2**30], device=trainer.accelerator.device)
        peaks = [round(v, 2) for v in trainer.accelerator.gather(mine).tolist()]
    if not trainer.accelerator.is_main_process:
        return {}
    return {
        "tokens_per_s": round(tokens_per_s, 1),
        "steps_timed": s1 - s0,
        "tokens_timed": int(n1 - n0),
        "seconds_per_step": round((t1 - t0) / (s1 - s0), 3),
        "train_wall_s": round(train_wall, 1),
        "examples_per_step": settings["effective_batch_size"],
        "mfu_6n": round(6 * n_params * tokens_per_s / (world * peak * 1e12), 4) if peak else None,  # per GPU
        "params": n_params,
        "card": card,
        "gpus": world if torch.cuda.is_available() else 0,
        "processes": world,
        "distributed_type": str(trainer.accelerator.distributed_type),
        "examples": len(sample),
        "tokens_per_example": round(sum(map(len, sample["input_ids"])) / len(sample), 1),
        "peak_gpu_memory_gib": max(peaks) if peaks else None,
        "peak_gpu_memory_gib_per_gpu": peaks,
        "loaded_in_4bit": bool(getattr(trainer.model, "is_loaded_in_4bit", False)),
        # variants that see the questions in the same order must agree here up to numerics: a check that a
        # faster attention or batch layout computes the same loss
        "first_losses": [round(e["loss"], 4) for e in trainer.state.log_history if "loss" in e][:3],
        "attention": model_args.attn_implementation,
        **({"attention_calls": dict(varlen_attention.calls)} if varlen_attention.calls else {}),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--model", required=True, help="base model directory")
    parser.add_argument("--spider_dir", required=True)
    parser.add_argument("--examples", type=int, default=800, help="training questions per variant (one pass)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    parser.add_argument("--variants", nargs="+", default=["stock", "config"])
    parser.add_argument("--flags", default="", help="flags for every variant, e.g. '--quantization 4bit'")
    parser.add_argument("--json", help="write the results here too")
    parser.add_argument("--profile_steps", type=int, default=0, help="profile this many steps after the warm-up")
    parser.add_argument("--profile_dir", default="profiles", help="where each variant's profile table goes")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: run one variant's flags in this process
    parser.add_argument("--profile_out", help=argparse.SUPPRESS)  # internal: that variant's profile file
    args = parser.parse_args()
    base = ["--config", args.config, "--model_name_or_path", args.model, "--spider_dir", args.spider_dir]
    if args.one is not None:
        result = measure(
            base + shlex.split(args.one), args.examples, args.warmup, args.profile_steps, args.profile_out
        )
        if result:  # launched ranks other than the main one report nothing
            print("RESULT " + json.dumps(result))
        return 0
    results = {}
    for variant in args.variants:
        name, _, flags = variant.partition("=")
        flags = {"stock": STOCK, "config": ""}.get(name, flags) if not flags else flags
        launcher, trainer_flags = split_launcher(flags)
        with tempfile.TemporaryDirectory() as out:
            one = f"{args.flags} {trainer_flags} --output_dir {out}"
            profile = (
                [
                    "--profile_steps",
                    str(args.profile_steps),
                    "--profile_out",
                    str(Path(args.profile_dir).resolve() / f"{name}.txt"),
                ]
                if args.profile_steps
                else []
            )
            proc = subprocess.run(
                [
                    *launcher,
                    "-m",
                    "benchmarks.bench_trainer",
                    "--config",
                    args.config,
                    "--model",
                    args.model,
                    "--spider_dir",
                    args.spider_dir,
                    "--examples",
                    str(args.examples),
                    "--warmup",
                    str(args.warmup),
                    "--one",
                    one,
                    *profile,
                ],
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
        lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
        if proc.returncode or not lines:
            print(f"{name}: failed (exit {proc.returncode})\n{proc.stderr[-2000:]}", file=sys.stderr)
            results[name] = {"flags": flags, "error": proc.stderr[-500:]}
        else:
            results[name] = {"flags": flags, **json.loads(lines[-1][len("RESULT ") :])}
            print(f"{name}: {json.dumps(results[name])}", flush=True)
        add_speedups(results)
        if args.json:  # after every variant, so that a run cut off by a time limit keeps what finished
            Path(args.json).parent.mkdir(parents=True, exist_ok=True)
            Path(args.json).write_text(json.dumps({"command": shlex.join(sys.argv), "results": results}, indent=1))
    for name, r in results.items():
        if "speedup_vs_first" in r:
            print(
                f"{name:>12}: {r['tokens_per_s']:>10,.0f} tokens/s  x{r['speedup_vs_first']:.2f}  "
                f"MFU(6N) {r['mfu_6n']}  peak {r['peak_gpu_memory_gib']} GiB"
            )
    return 0 if all("tokens_per_s" in r for r in results.values()) else 1


def add_speedups(results: dict) -> None:
    """Each finished variant's tokens/s as a ratio to the first finished one (the baseline of the same run)."""
    first = next((r for r in results.values() if "tokens_per_s" in r), None)
    for r in results.values():
        if first and "tokens_per_s" in r:
            r["speedup_vs_first"] = round(r["tokens_per_s"] / first["tokens_per_s"], 2)


if __name__ == "__main__":
    sys.exit(main())
