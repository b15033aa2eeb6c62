"""The generality probes a study can run: the one home of their names, headline metrics and chance levels.

Each probe is a task (or group) of the harness, run as the harness defines it (offline through
`tradeoff prepare-probes`); a study lists the probes it runs and their settings under `probes:`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class Probe:
    name: str  # the lm-eval task or group
    metric: str  # its headline in lm-eval's results.json
    prefix: str  # its columns in the report's tables
    label: str  # its name in the report's text and figures
    chance: float  # what guessing scores: a probe is read against max(chance, answering by habit)
    multiple_choice: bool  # answer-position diagnostics apply
    per_sample_metric: str  # the score of one question in lm-eval's per-sample log
    sample_filter: str | None = None  # the filter whose per-sample lines carry that score
    unsafe_code: bool = False  # executes model-written code: lm_eval needs --confirm_run_unsafe_code
    debiased: bool = False  # scored after removing the model's own answer-position preference (report only)
    source: str = ""  # the release `tradeoff prepare-probes` converts for it (probe_sources' key); "" = its name

    @property
    def data_source(self) -> str:
        return self.source or self.name


PROBES = {
    p.name: p
    for p in (
        Probe("mmlu", "acc,none", "mmlu_acc", "MMLU", 0.25, True, "acc"),
        Probe(
            "mmlu_continuation", "acc,none", "mmlu_continuation_acc", "MMLU (cloze)", 0.25, True, "acc", source="mmlu"
        ),
        Probe(
            "gsm8k",
            "exact_match,flexible-extract",
            "gsm8k_em",
            "GSM8K",
            0.0,
            False,
            "exact_match",
            sample_filter="flexible-extract",
        ),
        Probe(
            "humaneval",
            "pass_at_k,create_test",
            "humaneval_pass1",
            "HumanEval pass@1",
            0.0,
            False,
            "pass_at_k",
            unsafe_code=True,
        ),
    )
}


PREPARABLE = (
    "mmlu",
    "gsm8k",
    "humaneval",
)  # the sources `tradeoff prepare-probes` converts (MMLU's serves both forms)
DEFAULT_PROBES = {"mmlu": {"num_fewshot": 0}}  # what a study without `probes` runs


@dataclass
class ProbeSettings:
    """How a study runs one probe; None keeps the task's own default (or the study's eval setting)."""

    num_fewshot: int | None = None
    limit: int | None = None  # questions per task (per subject for the MMLU groups); null = all
    batch_size: str | None = None  # null: the study's eval.batch_size
    max_gen_toks: int | None = None  # generation probes (gsm8k, humaneval)
    # more of lm-eval's --gen_kwargs for a generation probe, e.g. {cache_implementation: static, disable_compile:
    # true}: a key/value cache of one length for the whole generation (what spider_exec's task sets)
    gen_kwargs: dict | None = None
    apply_chat_template: bool | None = None  # null: the study's eval.apply_chat_template
    # the model's dtype for this probe (null: the study's eval.dtype); float32 for a multiple-choice probe gives
    # each option's log-likelihood to more than bf16's 8 significant bits, which tie the top two options of
    # several percent of MMLU questions (lm-eval then picks the first), at the cost of loading the model again
    dtype: str | None = None
    # multiple-choice probes: the report scores each question after removing the model's own preference for
    # answer positions (tradeoff/diagnostics.py) and names the probe "... (position-debiased)"
    debiased: bool = False


def probe_settings(name: str, settings: dict | None, where: str) -> ProbeSettings:
    """One probe's settings from a study config; a ValueError names the key that is wrong."""
    if name not in PROBES:
        raise ValueError(f"{where}: unknown probe {name!r}; known: {', '.join(PROBES)}")
    settings = settings or {}
    known = {f.name for f in fields(ProbeSettings)}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ValueError(
            f"{where}: probe {name}: unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    if settings.get("debiased") and not PROBES[name].multiple_choice:
        raise ValueError(
            f"{where}: probe {name}: debiased applies to the multiple-choice probes (mmlu, mmlu_continuation)"
        )
    extra = settings.get("gen_kwargs")
    if extra is not None and (PROBES[name].multiple_choice or not isinstance(extra, dict)):
        raise ValueError(
            f"{where}: probe {name}: gen_kwargs maps generation settings to values, e.g. "
            "{cache_implementation: static}; it applies to the generation probes (gsm8k, humaneval)"
        )
    return ProbeSettings(**settings)


def gen_kwargs_argument(settings: ProbeSettings) -> str | None:
    """The probe's generation settings as lm-eval's --gen_kwargs value (key=value,...), or None."""
    values = {"max_gen_toks": settings.max_gen_toks} if settings.max_gen_toks else {}
    values.update(settings.gen_kwargs or {})
    return ",".join(f"{key}={value}" for key, value in values.items()) or None


def debiased(probe: Probe) -> Probe:
    """The probe as the report reads it with `debiased: true`: its own columns and name, so a number says which
    scoring it comes from."""
    label, prefix = f"{probe.label} (position-debiased)", f"{probe.prefix}_debiased"
    return replace(probe, label=label, prefix=prefix, debiased=True)


def study_probes(config: dict) -> list[Probe]:
    """The probes of a study config (a study.yaml's contents); a study from before `probes` ran MMLU."""
    settings = config.get("probes") or {"mmlu": {}}
    return [debiased(PROBES[n]) if (s or {}).get("debiased") else PROBES[n] for n, s in settings.items()]
