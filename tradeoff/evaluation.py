"""A sweep's evaluations: the lm_eval command of each (model, suite), what it evaluates (the base, or an adapter
on the base it was trained on), whether it is done, and how its output becomes the results layout
(tradeoff/layout.py). A model's suites run in one process that loads the model once (or, with eval.processes: 2,
in two at once: multiple-choice probes and generation suites; with per_suite, each in its own, all at once); each
suite is written to a `.partial` folder and renamed when complete, so a half-written result never passes for one.
"""

from __future__ import annotations

import gzip
import json
import shlex
import shutil
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

from tradeoff import layout
from tradeoff.lm_eval_runs import COMPLETE
from tradeoff.probes import PROBES, gen_kwargs_argument
from tradeoff.request_cache import ENVIRONMENT_VARIABLE, request_cache_dir
from tradeoff.samples import write_questions
from tradeoff.step_commands import SweepError, run_logged
from tradeoff.study import PER_SUITE, Study
from tradeoff_tasks.records import file_sha256
from training.run_state import META_FILE


def check_adapter_base(adapter: Path, base_model: str, gguf_file: str | None) -> None:
    """Refuse to evaluate an adapter on a base other than the one it was trained on (peft would fail with
    shape errors deep inside model loading, or worse, load silently onto a same-shaped model)."""
    meta = json.loads((adapter / META_FILE).read_text())
    trained_on = (str(Path(meta["base_model"])), meta.get("gguf_file"))
    if trained_on != (str(Path(base_model)), gguf_file):
        raise SweepError(
            f"{adapter}: adapter was trained on {trained_on[0]} ({trained_on[1] or 'no GGUF'}), "
            f"not on {base_model} ({gguf_file or 'no GGUF'}); fix base_model/gguf_file in the study"
        )


def _base_model_cache(study: Study) -> Path:
    """The trainer's cache of converted GGUF bases, so training and evaluation share one conversion."""
    from training.model import DEFAULT_BASE_MODEL_CACHE

    return Path(study.training_args.get("base_model_cache", DEFAULT_BASE_MODEL_CACHE))


def converted_base(study: Study) -> Path:
    """Where a GGUF base is written once as a plain bf16 HF folder; lm-eval loads that in under a second
    instead of dequantizing the GGUF on every start."""
    from training.model import gguf_hf_folder

    return gguf_hf_folder(study.base_model, study.gguf_file, _base_model_cache(study))


def convert_base(study: Study) -> None:
    from training.model import gguf_as_hf_folder

    gguf_as_hf_folder(study.base_model, study.gguf_file, _base_model_cache(study))


def _model_args(study: Study, tag: str, dtype: str | None = None) -> str:
    if study.gguf_file:
        args = [f"pretrained={converted_base(study).resolve()}"]
    else:
        args = [f"pretrained={study.base_model}"]
    if tag != layout.BASE:
        adapter = layout.adapter_dir(study.runs, tag)
        check_adapter_base(adapter, study.base_model, study.gguf_file)
        args.append(f"peft={adapter}")
    return ",".join(args + [f"dtype={dtype or study.eval.dtype}"])


def eval_dir(study: Study, tag: str, suite: str) -> Path:
    return layout.eval_dir(study.results, tag, suite)


def evaluated_model(study: Study, tag: str) -> str | None:
    """What an evaluation of `tag` runs on: "base", or the sha256 of the adapter's weights (a retrained adapter
    is another model at the same path); None while the adapter has not been trained."""
    if tag == layout.BASE:
        return layout.BASE
    adapter = layout.adapter_dir(study.runs, tag)
    weights = adapter / "adapter_model.safetensors"
    if not (adapter / META_FILE).is_file() or not weights.is_file():
        return None
    return file_sha256(weights)  # read once per version of the file: a sweep asks for every adapter's at each start


def suite_settings(study: Study, suite: str) -> dict:
    """What decides a suite's answers besides the model: its prompting and decoding settings (batch sizes and the
    device are left out: they change speed, and the last bits of bf16 arithmetic at most; so is `debiased`, which
    only the report reads)."""
    e = study.eval
    if suite == layout.SPIDER:
        keep = ("dtype", "apply_chat_template", "max_gen_toks", "spider_limit", "spider_num_fewshot")
        return {k: getattr(e, k) for k in (*keep, "spider_answer_prefix")}
    settings = {k: v for k, v in asdict(study.probes[suite]).items() if k not in ("batch_size", "debiased")}
    if settings["apply_chat_template"] is None:
        settings["apply_chat_template"] = e.apply_chat_template
    settings["dtype"] = settings["dtype"] or e.dtype
    if not PROBES[suite].multiple_choice:  # generation: spider_exec decodes grouped anyway
        settings["grouped_decode"] = e.grouped_decode
    return settings


def evaluation_done(study: Study, tag: str, suite: str) -> bool:
    """Its folder exists, was made from the adapter now on disk and with the study's settings for the suite, so a
    retrained adapter or a changed setting is evaluated anew (a folder from before settings were recorded counts
    as made with the current ones). Without the adapter on disk (trained on another machine), the weights its
    training record names stand in for it."""
    folder = eval_dir(study, tag, suite)
    stamp = folder / layout.EVALUATED_MODEL_FILE
    current = evaluated_model(study, tag) or layout.recorded_weights(study.results, tag)
    if current is None or not stamp.is_file() or stamp.read_text().strip() != current:
        return False
    recorded = layout.recorded_settings(folder)
    return recorded is None or recorded == suite_settings(study, suite)


def eval_command(study: Study, tag: str, suite: str, output_path: Path) -> list[str]:
    """The lm_eval command of one evaluation, with per-sample logs, written under output_path."""
    return [sys.executable, "-m", "lm_eval", *lm_eval_arguments(study, tag, suite, output_path)]


def lm_eval_arguments(study: Study, tag: str, suite: str, output_path: Path) -> list[str]:
    """The arguments of that command, after the program."""
    e = study.eval
    command = [
        "--model",
        "hf",
        "--model_args",
        _model_args(study, tag, None if suite == layout.SPIDER else study.probes[suite].dtype),
        "--include_path",
        study.tasks_dir,
        "--device",
        e.device,
        "--output_path",
        str(output_path),
        "--log_samples",
        "--seed",
        "0",
    ]
    if suite == layout.SPIDER:
        if e.apply_chat_template:
            command.append("--apply_chat_template")
        command += ["--batch_size", str(e.generation_batch_size or e.batch_size)]
        metadata = {"spider_dir": study.spider_dir}
        if e.spider_answer_prefix:
            metadata["answer_prefix"] = e.spider_answer_prefix
        if e.spider_num_fewshot:
            metadata["fewshot"] = True
            command += ["--num_fewshot", str(e.spider_num_fewshot)]
        command += [
            "--tasks",
            "spider_exec",
            "--metadata",
            json.dumps(metadata),
            "--gen_kwargs",
            f"max_gen_toks={e.max_gen_toks}",
        ]
        command += ["--limit", str(e.spider_limit)] if e.spider_limit else []
    else:
        command += _probe_arguments(study, suite)
    return command


def _probe_arguments(study: Study, name: str) -> list[str]:
    """A probe's lm_eval flags: the task, and the settings the study gives it (else the task's defaults)."""
    settings, e = study.probes[name], study.eval
    arguments = ["--tasks", name, "--batch_size", str(settings.batch_size or e.batch_size)]
    chat = e.apply_chat_template if settings.apply_chat_template is None else settings.apply_chat_template
    arguments += ["--apply_chat_template"] if chat else []
    arguments += ["--num_fewshot", str(settings.num_fewshot)] if settings.num_fewshot is not None else []
    arguments += ["--limit", str(settings.limit)] if settings.limit else []
    generation = gen_kwargs_argument(settings)
    arguments += ["--gen_kwargs", generation] if generation else []
    arguments += ["--confirm_run_unsafe_code"] if PROBES[name].unsafe_code else []
    if e.cache_requests and PROBES[name].data_source in study.probe_sources:
        arguments += ["--cache_requests", "true"]  # in the study's own cache: evaluate_model's environment
    return arguments


def process_order(suites: list[str]) -> list[str]:
    """The order of a model's suites in its one process: spider_exec last, because it switches transformers'
    sdpa attention to its grouped decode for the rest of the process (tradeoff_tasks/grouped_decode.py) and
    each probe should run as its plain lm_eval command would (unless the study's eval.grouped_decode switches it on
    for the whole process)."""
    return sorted(suites, key=lambda suite: suite == layout.SPIDER)


def process_groups(study: Study, suites: list[str]) -> dict[str, list[str]]:
    """The suites of each evaluation process of a model, by the name of its log: all in one, or with
    eval.processes: 2 the multiple-choice probes (log-likelihood passes) in one and the generation suites
    (decoding) in the other, or with per_suite each suite in its own (which runs it as its plain lm_eval command
    would, unless eval.grouped_decode is set)."""
    if study.eval.processes == 1:
        return {"": suites}
    if study.eval.processes == PER_SUITE:
        return {f"-{suite}": [suite] for suite in suites}
    scored = [suite for suite in suites if suite != layout.SPIDER and PROBES[suite].multiple_choice]
    groups = {"-multiple-choice": scored, "-generation": [suite for suite in suites if suite not in scored]}
    return {name: group for name, group in groups.items() if group}


def process_command(study: Study, tag: str, outputs: dict[str, Path]) -> list[str]:
    """The one process that evaluates `tag` on each suite of `outputs` (suite -> its --output_path), in
    process_order: tradeoff/lm_eval_runs.py with each suite's lm_eval arguments."""
    runs = [shlex.join(lm_eval_arguments(study, tag, suite, outputs[suite])) for suite in process_order(list(outputs))]
    grouped = ["--grouped-decode"] if study.eval.grouped_decode else []
    return [sys.executable, "-m", "tradeoff.lm_eval_runs", *grouped, *runs]


def process_commands(study: Study, tag: str, outputs: dict[str, Path]) -> dict[str, list[str]]:
    """Each evaluation process of `tag`, by the name of its log (process_groups), with its command over its
    share of `outputs` (suite -> its --output_path): what the sweep starts, and the benchmarks measure."""
    return {
        name: process_command(study, tag, {suite: outputs[suite] for suite in group})
        for name, group in process_groups(study, list(outputs)).items()
    }


def process_environment(study: Study) -> dict[str, str]:
    """What that process needs in its environment besides GPU pinning: the study's own request cache."""
    return {ENVIRONMENT_VARIABLE: str(request_cache_dir(study).resolve())} if study.eval.cache_requests else {}


def evaluate_model(study: Study, tag: str, suites: list[str], env: dict[str, str]) -> None:
    """One model on the given suites, in one process that loads the model once (tradeoff/lm_eval_runs.py), or in
    the processes of process_commands at once; each run is the suite's lm_eval command (eval_command). Every suite
    that completed is kept, even when a later one or the other process fails or the time limit stops the step."""
    partials = {}
    for suite in suites:
        final = eval_dir(study, tag, suite)
        partials[suite] = final.with_name(final.name + ".partial")
        shutil.rmtree(partials[suite], ignore_errors=True)
    evaluated = evaluated_model(study, tag)
    settings = {suite: suite_settings(study, suite) for suite in suites}
    outputs = {suite: partial / "raw" for suite, partial in partials.items()}
    environment = {**env, **process_environment(study)}
    commands = process_commands(study, tag, outputs)
    try:
        with ThreadPoolExecutor(len(commands)) as pool:
            running = [
                pool.submit(run_logged, study, f"eval-{tag}{name}", command, environment)
                for name, command in commands.items()
            ]
        for process in running:  # after all have ended; the first failure is the step's
            process.result()
    finally:
        for suite, partial in partials.items():
            if (partial / "raw" / COMPLETE).is_file():
                _keep(study, tag, suite, partial, evaluated, settings[suite])


def _keep(study: Study, tag: str, suite: str, partial: Path, evaluated: str | None, settings: dict) -> None:
    """A completed suite's lm-eval output in the results layout, renamed into place last."""
    (partial / layout.EVALUATED_MODEL_FILE).write_text(f"{evaluated}\n")
    (partial / layout.EVALUATED_SETTINGS_FILE).write_text(json.dumps(settings, indent=1, sort_keys=True) + "\n")
    [results_file] = (partial / "raw").rglob("results_*.json")
    shutil.move(str(results_file), partial / layout.RESULTS_FILE)
    # lm-eval names each log samples_<task>_<timestamp>.jsonl
    logs = {
        path.name.removeprefix("samples_").rsplit("_", 1)[0]: path
        for path in (partial / "raw").rglob("samples_*.jsonl")
    }
    if suite == layout.SPIDER:
        with logs["spider_exec"].open("rb") as src, gzip.open(partial / layout.SPIDER_SAMPLES_FILE, "wb") as dst:
            shutil.copyfileobj(src, dst)
    else:  # a probe's logs (57 per-subject ones for MMLU) become one line per question: what the report needs
        write_questions(PROBES[suite], logs, partial / layout.QUESTIONS_FILE)
    shutil.rmtree(partial / "raw")
    final = eval_dir(study, tag, suite)
    shutil.rmtree(final, ignore_errors=True)
    partial.rename(final)
