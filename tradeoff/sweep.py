"""`tradeoff sweep STUDY.yaml`: train one adapter per learning rate, evaluate the base and every adapter on
spider_exec and mmlu with per-sample logs, then write the report.

Idempotent: a finished training (its training_meta.json exists) or evaluation (its folder exists and names
the adapter weights now on disk) is skipped, so a re-run after a crash redoes only unfinished work, and a
retrained adapter is evaluated again. With `jobs: N` in the study, up to N steps run at once (evaluations
beside the next training; see tradeoff/scheduler.py). Evaluations are written to a `.partial`
folder and renamed when complete; a half-written result never passes for one. Every command, its exit
status and wall time go to results/<study>/commands.jsonl, and its output to results/<study>/logs/.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path

import yaml
from tqdm import tqdm

from tradeoff.mmlu_local import prepare_mmlu
from tradeoff.samples import write_mmlu_questions
from tradeoff.scheduler import DeadlinePassed, Step, StepFailed, run_steps
from tradeoff import layout
from tradeoff.layout import lr_tag
from tradeoff.study import Study
from training.run_state import hardware, library_versions, write_json_atomically

SFT_SCRIPT = Path(__file__).resolve().parent.parent / "training" / "sft.py"


class SweepError(RuntimeError):
    """A step failed; the message names the step and its log."""


class TimeLimitReached(SweepError):
    """The sweep's --time-limit came: running steps were stopped, the next run resumes."""


_COMMANDS_LOG_LOCK = threading.Lock()  # steps may finish at once when the study runs several in parallel


def _run_logged(study: Study, step: str, command: list[str], env: dict[str, str]) -> None:
    logs = study.results / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{step}.log"
    started = time.time()
    with log_path.open("w") as log:
        log.write("".join(f"{k}={v} " for k, v in env.items()) + f"$ {shlex.join(command)}\n")
        log.flush()
        # its own process group, so that at the time limit the step stops with every process it started
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **env},
                                start_new_session=True)
        rc = _wait(proc, study.deadline)
    entry = {"step": step, "command": shlex.join(command), "env": env, "rc": rc,
             "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
             "wall_s": round(time.time() - started, 1), "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    with _COMMANDS_LOG_LOCK, (study.results / "commands.jsonl").open("a") as f:
        f.write(json.dumps(entry) + "\n")
    if rc is None:
        raise TimeLimitReached(f"step {step} stopped at the time limit; log: {log_path}")
    if rc != 0:
        tail = "".join(log_path.read_text().splitlines(keepends=True)[-5:])
        raise SweepError(f"step {step} failed (exit {rc}); log: {log_path}\n{tail}")


def _wait(proc: subprocess.Popen, deadline: float | None, grace_s: float = 20.0) -> int | None:
    """The exit status, or None when the deadline came first: then the process group gets SIGTERM (a trainer
    may still finish writing a checkpoint) and, after grace_s, SIGKILL."""
    try:
        return proc.wait(timeout=None if deadline is None else max(deadline - time.time(), 0))
    except subprocess.TimeoutExpired:
        pass
    for sig, wait_s in ((signal.SIGTERM, grace_s), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait_s)
            break
        except subprocess.TimeoutExpired:
            continue
    return None


def launcher_command(launcher: list[str]) -> list[str]:
    """The study's launcher, run with this interpreter so a virtual environment need not be activated."""
    if launcher and launcher[0] in ("python", "python3"):
        return [sys.executable, *launcher[1:]]
    if launcher[:2] == ["accelerate", "launch"]:
        return [sys.executable, "-m", "accelerate.commands.launch", *launcher[2:]]
    return list(launcher)


def adapter_dir(study: Study, lr: float) -> Path:
    return study.runs / "adapters" / lr_tag(lr)


def tag_adapter_dir(study: Study, tag: str) -> Path:
    """The adapter of a model tag such as "lr-0.0001"."""
    return adapter_dir(study, next(lr for lr in study.learning_rates if lr_tag(lr) == tag))


def _train(study: Study, lr: float, env: dict[str, str]) -> None:
    out = adapter_dir(study, lr)
    command = [*launcher_command(study.launcher), str(SFT_SCRIPT), "--config", study.training_config, "--lr", repr(lr),
               "--model_name_or_path", study.base_model, "--spider_dir", study.spider_dir, "--output_dir", str(out)]
    if study.gguf_file:
        command += ["--gguf_file", study.gguf_file]
    for key, value in study.training_args.items():
        command += [f"--{key}", str(value).lower() if isinstance(value, bool) else str(value)]
    _run_logged(study, f"train-{lr_tag(lr)}", command, env)


def _record_training(study: Study, lr: float) -> None:
    """Copy the adapter's training_meta.json into the results (the report reads its steps and loss there); done
    at the end of every sweep, so trainings from an earlier run reach a results folder that was since replaced."""
    meta = adapter_dir(study, lr) / "training_meta.json"
    if meta.is_file():
        record = layout.training_record(study.results, lr_tag(lr))
        record.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(meta, record)


def check_adapter_base(adapter: Path, base_model: str, gguf_file: str | None) -> None:
    """Refuse to evaluate an adapter on a base other than the one it was trained on (peft would fail with
    shape errors deep inside model loading, or worse, load silently onto a same-shaped model)."""
    meta = json.loads((adapter / "training_meta.json").read_text())
    trained_on = (str(Path(meta["base_model"])), meta.get("gguf_file"))
    if trained_on != (str(Path(base_model)), gguf_file):
        raise SweepError(f"{adapter}: adapter was trained on {trained_on[0]} ({trained_on[1] or 'no GGUF'}), "
                         f"not on {base_model} ({gguf_file or 'no GGUF'}); fix base_model/gguf_file in the study")


def _base_model_cache(study: Study) -> Path:
    """The trainer's cache of converted GGUF bases, so training and evaluation share one conversion."""
    from training.model import DEFAULT_BASE_MODEL_CACHE

    return Path(study.training_args.get("base_model_cache", DEFAULT_BASE_MODEL_CACHE))


def converted_base(study: Study) -> Path:
    """Where a GGUF base is written once as a plain bf16 HF folder; lm-eval loads that in under a second
    instead of dequantizing the GGUF on every start."""
    from training.model import gguf_hf_folder

    return gguf_hf_folder(study.base_model, study.gguf_file, _base_model_cache(study))


def _convert_base(study: Study) -> None:
    from training.model import gguf_as_hf_folder

    gguf_as_hf_folder(study.base_model, study.gguf_file, _base_model_cache(study))


def _model_args(study: Study, tag: str) -> str:
    if study.gguf_file:
        args = [f"pretrained={converted_base(study).resolve()}"]
    else:
        args = [f"pretrained={study.base_model}"]
    if tag != layout.BASE:
        adapter = tag_adapter_dir(study, tag)
        check_adapter_base(adapter, study.base_model, study.gguf_file)
        args.append(f"peft={adapter}")
    return ",".join(args + [f"dtype={study.eval.dtype}"])


def eval_dir(study: Study, tag: str, suite: str) -> Path:
    return layout.eval_dir(study.results, tag, suite)


def _evaluated_model(study: Study, tag: str) -> str | None:
    """What an evaluation of `tag` runs on: "base", or the sha256 of the adapter's weights (a retrained adapter
    is another model at the same path); None while the adapter has not been trained."""
    if tag == layout.BASE:
        return layout.BASE
    adapter = tag_adapter_dir(study, tag)
    weights = adapter / "adapter_model.safetensors"
    if not (adapter / "training_meta.json").is_file() or not weights.is_file():
        return None
    stat = weights.stat()
    return _sha256(str(weights), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=None)
def _sha256(path: str, mtime_ns: int, size: int) -> str:
    """A file's sha256, read once per version of the file (a sweep asks for every adapter's at every start)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _evaluation_done(study: Study, tag: str, suite: str) -> bool:
    """Its folder exists and was made from the adapter now on disk, so a retrained adapter is evaluated anew."""
    stamp = eval_dir(study, tag, suite) / layout.EVALUATED_MODEL_FILE
    current = _evaluated_model(study, tag)
    return current is not None and stamp.is_file() and stamp.read_text().strip() == current


def _evaluate(study: Study, tag: str, suite: str, env: dict[str, str]) -> None:
    final = eval_dir(study, tag, suite)
    partial = final.with_name(final.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    e = study.eval
    command = [sys.executable, "-m", "lm_eval", "--model", "hf", "--model_args", _model_args(study, tag),
               "--include_path", study.tasks_dir, "--device", e.device,
               "--output_path", str(partial / "raw"), "--log_samples", "--seed", "0"]
    if e.apply_chat_template:
        command.append("--apply_chat_template")
    if suite == "spider_exec":
        command += ["--batch_size", str(e.generation_batch_size or e.batch_size)]
        command += ["--tasks", "spider_exec", "--metadata", json.dumps({"spider_dir": study.spider_dir}),
                    "--gen_kwargs", f"max_gen_toks={e.max_gen_toks}"]
        command += ["--limit", str(e.spider_limit)] if e.spider_limit else []
    else:
        command += ["--batch_size", str(e.batch_size)]
        command += ["--tasks", "mmlu", "--num_fewshot", str(e.mmlu_num_fewshot)]
        command += ["--limit", str(e.mmlu_limit)] if e.mmlu_limit else []
    evaluated = _evaluated_model(study, tag)
    _run_logged(study, f"eval-{tag}-{suite}", command, env)
    (partial / layout.EVALUATED_MODEL_FILE).write_text(f"{evaluated}\n")
    [results_file] = (partial / "raw").rglob("results_*.json")
    shutil.move(str(results_file), partial / layout.RESULTS_FILE)
    # lm-eval names each log samples_<task>_<timestamp>.jsonl
    logs = {path.name.removeprefix("samples_").rsplit("_", 1)[0]: path for path in (partial / "raw").rglob("samples_*.jsonl")}
    if suite == "spider_exec":
        with logs["spider_exec"].open("rb") as src, gzip.open(partial / layout.SPIDER_SAMPLES_FILE, "wb") as dst:
            shutil.copyfileobj(src, dst)
    else:  # 57 per-subject logs become one line per question (what the report needs)
        write_mmlu_questions(logs, partial / layout.MMLU_QUESTIONS_FILE)
    shutil.rmtree(partial / "raw")
    shutil.rmtree(final, ignore_errors=True)
    partial.rename(final)


def _mmlu_ready(study: Study) -> bool:
    override = Path(study.tasks_dir) / "mmlu_local" / "_mmlu_local.yaml"
    dataset = (study.runs / "mmlu-local").resolve()
    return (dataset / "README.md").is_file() and override.is_file() and str(dataset) in override.read_text()


def plan(study: Study) -> list[Step]:
    """The study's steps in order: preparations, trainings, then evaluations (each after its training)."""
    prepare = []
    if study.gguf_file:
        prepare.append(Step("convert-base", lambda: (converted_base(study) / "config.json").is_file(),
                            lambda env: _convert_base(study)))
    if study.mmlu_source:
        prepare.append(Step("prepare-mmlu", lambda: _mmlu_ready(study),
                            lambda env: prepare_mmlu(Path(study.mmlu_source), study.runs / "mmlu-local",
                                                     Path(study.tasks_dir) / "mmlu_local")))
    first = tuple(step.name for step in prepare)  # everything reads the converted base / MMLU copy
    steps = list(prepare)
    for lr in study.learning_rates:
        steps.append(Step(f"train-{lr_tag(lr)}",
                          lambda lr=lr: (adapter_dir(study, lr) / "training_meta.json").is_file(),
                          lambda env, lr=lr: _train(study, lr, env), needs=first, training=True))
    for tag in study.model_tags():
        needs = first if tag == layout.BASE else (*first, f"train-{tag}")
        for suite in layout.SUITES:
            steps.append(Step(f"eval-{tag}-{suite}", lambda t=tag, s=suite: _evaluation_done(study, t, s),
                              lambda env, t=tag, s=suite: _evaluate(study, t, s, env), needs=needs))
    return steps


def run_sweep(study: Study) -> list[str]:
    """Run every unfinished step; returns the names of the steps it ran."""
    study.results.mkdir(parents=True, exist_ok=True)
    header = f"# {shlex.join(['tradeoff', 'sweep', study.source] + [f'--set={o}' for o in study.overrides])}\n"
    (study.results / "study.yaml").write_text(header + "# (this file: the study as run, overrides applied)\n"
                                              + yaml.safe_dump(study.config(), sort_keys=False))
    shutil.copy(study.training_config, study.results / "training_config.yaml")  # the config may change later
    write_json_atomically(study.results / "environment.json", {
        "libraries": library_versions(), "hardware": hardware(), "study": asdict(study),
        "command": shlex.join(sys.argv)})
    steps = plan(study)
    started: dict[str, float] = {}
    with tqdm(total=len(steps), desc=f"sweep {study.name}", unit="step", disable=None) as bar:
        bar.update(sum(step.done() for step in steps))

        def on_start(step: Step, env: dict) -> None:
            started[step.name] = time.time()
            where = f" on GPU {env['CUDA_VISIBLE_DEVICES']}" if env else ""
            print(f"sweep {study.name}: {step.name}{where} ...", flush=True)  # progress in logs too, where tqdm is off

        def on_finish(step: Step) -> None:
            print(f"sweep {study.name}: {step.name} done in {time.time() - started[step.name]:.0f} s", flush=True)
            bar.update(1)

        try:
            return run_steps(steps, study.jobs, study.training_jobs, study.gpus, on_start, on_finish, study.deadline)
        except TimeLimitReached:
            raise
        except DeadlinePassed as e:
            raise TimeLimitReached(str(e)) from e
        except StepFailed as e:
            raise SweepError(str(e)) from e
        finally:  # trainings done in an earlier run whose results folder was since replaced
            for lr in study.learning_rates:
                _record_training(study, lr)
