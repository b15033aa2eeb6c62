"""Several lm_eval command lines in one process, each model loaded once.

    python -m tradeoff.lm_eval_runs "--model hf --model_args pretrained=M --tasks mmlu --output_path out/mmlu ..." \
                                    "--model hf --model_args pretrained=M --tasks gsm8k --output_path out/gsm8k ..."

Each argument is one `lm_eval` command line without the program name, and runs exactly as `lm_eval` runs it: the
harness's own parser, configuration, seeds, tasks and result files. The one difference: consecutive runs with the
same --model, --model_args and --device share the loaded model instead of starting the harness and loading the
model again (the batch size is set per run). A study evaluates every model on several suites with different
settings, and start-up plus model loading cost tens of seconds per suite. What a task changes for its whole
process stays for the runs after it (spider_exec switches transformers' sdpa attention to its grouped decode),
so put such a task last. `--grouped-decode` switches it on for every run from the start
(tradeoff_tasks/grouped_decode.py: the same attention without copying the key/value cache at each decode step;
it changes the order of bf16 roundings, not the arithmetic), so generation probes decode the way spider_exec does.
Log-likelihood passes tokenize their requests in batches (tradeoff/batched_tokenize.py: the same token ids).

After each run has written its results, `COMPLETE` is written into its --output_path (required), so a caller keeps
the runs that finished when a later one fails or is stopped. Exit status: 0 when every run completed, else 1 after
naming the run that failed.
"""

from __future__ import annotations

import argparse
import gc
import shlex
import sys
import traceback
from pathlib import Path

from tradeoff import batched_tokenize

COMPLETE = "COMPLETE"


class SharedModels:
    """Stands in for `lm_eval.simple_evaluate`: builds the model a run names, or reuses the one the previous run
    built, and passes it on to the harness's own function."""

    def __init__(self, simple_evaluate):
        self._simple_evaluate = simple_evaluate
        self._key = None
        self._model = None
        self.loads = 0

    def __call__(self, model, model_args=None, batch_size=None, max_batch_size=None, device=None, **kwargs):
        if not isinstance(model, str):
            return self._simple_evaluate(
                model, model_args, batch_size=batch_size, max_batch_size=max_batch_size, device=device, **kwargs
            )
        key = (model, repr(model_args), device)
        if key != self._key:
            self._release()
            self._model, self._key = _build(model, model_args, batch_size, max_batch_size, device), key
            self.loads += 1
        _set_batch_size(self._model, batch_size, max_batch_size)
        results = self._simple_evaluate(
            model=self._model,
            model_args=model_args,
            batch_size=batch_size,
            max_batch_size=max_batch_size,
            device=device,
            **kwargs,
        )
        if results is not None:  # the results' config as the plain command writes it (a model name, not a path)
            results["config"]["model"] = model
        return results

    def _release(self) -> None:
        self._model = self._key = None
        gc.collect()
        try:
            import torch

            if torch.cuda.is_available():
                torch.cuda.empty_cache()
        except ImportError:
            pass


def _build(model: str, model_args, batch_size, max_batch_size, device):
    """The model as `simple_evaluate` builds it from a name and its arguments."""
    from lm_eval.api.registry import get_model

    extra = {"batch_size": batch_size, "max_batch_size": max_batch_size, "device": device}
    model_class = get_model(model)
    if isinstance(model_args, dict):
        return model_class.create_from_arg_obj(model_args, extra)
    return model_class.create_from_arg_string(model_args or "", extra)


def _set_batch_size(model, batch_size, max_batch_size) -> None:
    """Each run's --batch_size, the way HFLM's constructor reads it (models without a per-GPU batch size keep
    theirs)."""
    if not hasattr(model, "batch_size_per_gpu") or batch_size is None:
        return
    if str(batch_size).startswith("auto"):
        _, _, schedule = str(batch_size).partition(":")
        model.batch_size_per_gpu, model.batch_schedule, model.batch_sizes = "auto", float(schedule or 1), {}
        if max_batch_size is not None:
            model.max_batch_size = max_batch_size
    else:
        model.batch_size_per_gpu = int(batch_size)


def _output_path(arguments: list[str]) -> Path | None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--output_path", "-o")
    known, _ = parser.parse_known_args(arguments)
    return Path(known.output_path) if known.output_path else None


def run(command_lines: list[str], grouped_decode: bool = False) -> int:
    import lm_eval
    from lm_eval.utils import setup_logging

    runs = [shlex.split(line) for line in command_lines]
    outputs = [_output_path(arguments) for arguments in runs]
    for output, line in zip(outputs, command_lines, strict=True):
        if output is None:
            print(f"lm_eval_runs: run `{line}` has no --output_path; give each run its own", file=sys.stderr)
            return 2
    setup_logging()
    if grouped_decode:
        from tradeoff_tasks.grouped_decode import use_grouped_decode

        use_grouped_decode(True)
        print("lm_eval_runs: grouped decode on for every run", flush=True)
    from lm_eval.models.huggingface import HFLM

    batched_tokenize.enable(HFLM)  # the same token ids, a minute less per MMLU pass (tradeoff/batched_tokenize.py)
    before = vars(lm_eval).get("simple_evaluate")  # usually absent: the module looks it up lazily
    shared = SharedModels(lm_eval.simple_evaluate)
    lm_eval.simple_evaluate = shared  # the harness's `run` command looks it up at call time
    argv = sys.argv
    try:
        return _run_each(runs, outputs, shared)
    finally:
        if before is None:
            del lm_eval.simple_evaluate
        else:
            lm_eval.simple_evaluate = before
        sys.argv = argv


def _run_each(runs: list[list[str]], outputs: list[Path], shared: SharedModels) -> int:
    from lm_eval._cli import HarnessCLI

    for number, (arguments, output) in enumerate(zip(runs, outputs, strict=True), 1):
        print(f"lm_eval_runs: run {number}/{len(runs)}: lm_eval {shlex.join(arguments)}", flush=True)
        sys.argv = ["lm_eval", *arguments]
        cli = HarnessCLI()
        try:
            cli.execute(cli.parse_args())
        except (Exception, SystemExit) as error:  # the traceback goes to the log; the runs before it are kept
            if isinstance(error, SystemExit) and error.code in (0, None):
                continue  # a run that only printed help (`--help`): nothing to keep
            traceback.print_exc()
            print(f"lm_eval_runs: run {number} failed: lm_eval {shlex.join(arguments)}", file=sys.stderr)
            return 1
        output.mkdir(parents=True, exist_ok=True)
        (output / COMPLETE).write_text(f"lm_eval {shlex.join(arguments)}\n")
    print(f"lm_eval_runs: {len(runs)} runs, {shared.loads} model loads", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tradeoff.lm_eval_runs", description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", help="one lm_eval command line (without 'lm_eval') per argument")
    parser.add_argument(
        "--grouped-decode",
        action="store_true",
        help="decode grouped-query models without copying the key/value cache, in every run (as spider_exec does)",
    )
    args = parser.parse_args(argv)
    return run(args.runs, args.grouped_decode)


if __name__ == "__main__":
    sys.exit(main())
