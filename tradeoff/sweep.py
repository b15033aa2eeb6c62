"""`tradeoff sweep STUDY.yaml`: train one adapter per learning rate (and seed), evaluate the base and every
adapter on spider_exec and the study's probes with per-sample logs, then write the report.

Idempotent: a finished training (its training_meta.json exists, or its record in the results names the weights
every suite was evaluated on) or evaluation (its folder exists and names the adapter weights) is skipped, so a
re-run after a crash redoes only unfinished work, and a retrained adapter is evaluated again. With `jobs: N` in
the study, up to N steps run at once (evaluations beside the next training; see tradeoff/scheduler.py). Each
step's command, exit status and wall time go to results/<study>/commands.jsonl (tradeoff/step_commands.py);
evaluations are tradeoff/evaluation.py's.
"""

from __future__ import annotations

import json
import shlex
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path

import yaml
from tqdm import tqdm

from tradeoff import layout
from tradeoff.evaluation import convert_base, converted_base, evaluate_model, evaluated_model, evaluation_done
from tradeoff.layout import model_tag
from tradeoff.probe_data import prepare_probes, prepared
from tradeoff.scheduler import DeadlinePassed, Step, StepFailed, run_steps
from tradeoff.seeds_around_best import seed_the_choice, seeds_around_best, seeds_at
from tradeoff.step_commands import SweepError, TimeLimitReached, launcher_command, run_logged
from tradeoff.study import Study
from tradeoff_tasks.records import hardware, library_versions, write_json_atomically
from training.run_state import META_FILE

SFT_SCRIPT = Path(__file__).resolve().parent.parent / "training" / "sft.py"


def adapter_dir(study: Study, lr: float, seed: int) -> Path:
    return layout.adapter_dir(study.runs, model_tag(lr, seed))


def _train(study: Study, lr: float, seed: int, env: dict[str, str]) -> None:
    launcher = launcher_command(study.launcher)
    if study.training_gpus > 1:  # one process per pinned GPU (the launcher's config says how: DDP, FSDP)
        launcher += ["--num_processes", str(study.training_gpus)]
    command = [
        *launcher,
        str(SFT_SCRIPT),
        "--config",
        study.training_config,
        "--lr",
        repr(lr),
        "--seed",
        str(seed),
        "--model_name_or_path",
        study.base_model,
        "--spider_dir",
        study.spider_dir,
        "--output_dir",
        str(adapter_dir(study, lr, seed)),
    ]
    if study.gguf_file:
        command += ["--gguf_file", study.gguf_file]
    for key, value in study.training_args.items():
        command += [f"--{key}", str(value).lower() if isinstance(value, bool) else str(value)]
    run_logged(study, f"train-{model_tag(lr, seed)}", command, env)
    _record_training(study, lr, seed)  # now: a run cut short (machine lost) keeps the records of what finished


def _record_training(study: Study, lr: float, seed: int) -> None:
    """The adapter's training_meta.json in the results, with the sha256 of its weights: the report reads steps and
    loss there, and only from the record of the adapter that was evaluated (each evaluation names its weights'
    sha256). Also done at the end of every sweep, for trainings of an earlier run whose results were replaced."""
    tag = model_tag(lr, seed)
    meta = adapter_dir(study, lr, seed) / META_FILE
    if meta.is_file():
        record = layout.training_record(study.results, tag)
        record.parent.mkdir(parents=True, exist_ok=True)
        content = {**json.loads(meta.read_text()), layout.ADAPTER_SHA256_KEY: evaluated_model(study, tag)}
        write_json_atomically(record, content)


def plan(study: Study) -> list[Step]:
    """The study's steps in order: preparations, the base's evaluation, then each training and its evaluation."""
    prepare = []
    if study.gguf_file:
        prepare.append(
            Step(
                "convert-base",
                lambda: (converted_base(study) / "config.json").is_file(),
                lambda env: convert_base(study),
            )
        )
    if study.probe_sources:
        data, tasks = layout.probe_data_dir(study.runs), Path(study.tasks_dir) / "_local"
        prepare.append(
            Step(
                "prepare-probes",
                lambda: prepared(study.probe_sources, data, tasks),
                lambda env: prepare_probes(study.probe_sources, data, tasks),
            )
        )
    first = tuple(step.name for step in prepare)  # everything reads the converted base / the probes' data
    steps = [*prepare, _eval_step(study, layout.BASE, needs=first)]
    # each adapter's evaluation right after its training: a run stopped early (time limit, machine lost) leaves
    # finished models, not adapters that were never evaluated
    for lr, seed in study.trainings():
        tag = model_tag(lr, seed)
        steps.append(
            Step(
                f"train-{tag}",
                lambda lr=lr, seed=seed: _trained(study, lr, seed),
                lambda env, lr=lr, seed=seed: _train(study, lr, seed, env),
                needs=first,
                training=True,
                gpus=study.training_gpus,
            )
        )
        steps.append(_eval_step(study, tag, needs=(*first, f"train-{tag}")))
    return steps


def _trained(study: Study, lr: float, seed: int) -> bool:
    """Its adapter is on disk; or it is gone (trained on another machine) but its training record names the
    weights every suite was evaluated on, with the current settings: nothing is left to do with it, so it is
    not trained again (a retraining would be other weights, and every suite would be evaluated again)."""
    return (adapter_dir(study, lr, seed) / META_FILE).is_file() or not _unevaluated(study, model_tag(lr, seed))


def _eval_step(study: Study, tag: str, needs: tuple[str, ...]) -> Step:
    return Step(
        f"eval-{tag}",
        lambda: not _unevaluated(study, tag),
        lambda env: evaluate_model(study, tag, _unevaluated(study, tag), env),
        needs=needs,
        evaluation=True,
    )


def _unevaluated(study: Study, tag: str) -> list[str]:
    return [suite for suite in study.suites() if not evaluation_done(study, tag, suite)]


def _write_study_record(study: Study, note: str = "") -> None:
    """results/<study>/study.yaml: the study as run (the report plans its models from it)."""
    header = f"# {shlex.join(['tradeoff', 'sweep', study.source] + [f'--set={o}' for o in study.overrides])}\n"
    (study.results / "study.yaml").write_text(
        header
        + "# (this file: the study as run, overrides applied)\n"
        + (f"# {note}\n" if note else "")
        + yaml.safe_dump(study.config(), sort_keys=False)
    )


def run_sweep(study: Study) -> list[str]:
    """Run every unfinished step; returns the names of the steps it ran. With `seeds_around_best`, the grid
    first, then those seeds around the best learning rate (tradeoff/seeds_around_best.py)."""
    study.results.mkdir(parents=True, exist_ok=True)
    _write_study_record(study)
    shutil.copy(study.training_config, study.results / "training_config.yaml")  # the config may change later
    write_json_atomically(
        study.results / "environment.json",
        {
            "libraries": library_versions(),
            "hardware": hardware(),
            "study": asdict(study),
            "command": shlex.join(sys.argv),
        },
    )
    ran = _run_plan(study)
    if study.seeds_around_best:
        try:
            best, around = seeds_around_best(study)
        except ValueError as e:
            raise SweepError(f"{study.source}: {e}") from None
        study.seeds_by_lr = {**study.seeds_by_lr, **around}
        rates = ", ".join(f"{lr:g}" for lr in around)
        note = f"seeds_by_lr chosen by seeds_around_best: best Spider EX at lr {best:g}; its seeds at {rates}"
        _write_study_record(study, note)
        print(f"sweep {study.name}: best Spider EX at lr {best:g}; seeds {study.seeds_around_best} at {rates}")
        ran += _run_plan(study)
        for _ in study.learning_rates:  # the choice moves to another rate at most once per rate
            choice = seed_the_choice(study)
            if choice is None:
                break
            study.seeds_by_lr = {**study.seeds_by_lr, **seeds_at(study, choice)}
            note += f"; the decision rule's choice, lr {choice:g}, gets them too"
            _write_study_record(study, note)
            print(f"sweep {study.name}: the decision rule picks lr {choice:g}; seeds {study.seeds_around_best} there")
            ran += _run_plan(study)
    return ran


def _run_plan(study: Study) -> list[str]:
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
            return run_steps(
                steps,
                jobs=study.jobs,
                training_jobs=study.training_jobs,
                gpus=study.gpus,
                on_start=on_start,
                on_finish=on_finish,
                deadline=lambda: study.deadline,  # brought forward by SIGTERM (cli.py)
                evaluation_jobs=study.evaluation_jobs,
            )
        except TimeLimitReached:
            raise
        except DeadlinePassed as e:
            raise TimeLimitReached(str(e)) from e
        except StepFailed as e:
            raise SweepError(str(e)) from e
        finally:  # trainings done in an earlier run whose results folder was since replaced
            for lr, seed in study.trainings():
                _record_training(study, lr, seed)
