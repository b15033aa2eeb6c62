"""A probe's own model dtype (`probes.<name>.dtype`): it reaches that probe's command only, it is one of the
settings that decide a suite's answers (so changing it evaluates the suite again), and the report states it."""

import json

from tests.minimal_study import minimal_study
from tradeoff import evaluation, layout

SUITES = ["spider_exec", "mmlu", "mmlu_continuation", "gsm8k"]


def study(tmp_path, *overrides):
    return minimal_study(tmp_path, "probes: {mmlu: {dtype: float32}, mmlu_continuation: {}, gsm8k: {}}\n", overrides)


def model_args(command: list[str]) -> str:
    return command[command.index("--model_args") + 1]


def test_the_dtype_reaches_its_probe_only(tmp_path):
    s = study(tmp_path)
    dtypes = {
        suite: model_args(evaluation.lm_eval_arguments(s, "base", suite, tmp_path / suite)).split("dtype=")[1]
        for suite in SUITES
    }
    assert dtypes == {
        "spider_exec": "bfloat16",
        "mmlu": "float32",
        "mmlu_continuation": "bfloat16",
        "gsm8k": "bfloat16",
    }


def test_a_changed_dtype_evaluates_the_probe_again(tmp_path):
    before = study(tmp_path, "probes.mmlu.dtype=null")
    folder = evaluation.eval_dir(before, "base", "mmlu")
    folder.mkdir(parents=True)
    (folder / layout.EVALUATED_MODEL_FILE).write_text("base\n")
    (folder / layout.EVALUATED_SETTINGS_FILE).write_text(json.dumps(evaluation.suite_settings(before, "mmlu")))
    assert evaluation.evaluation_done(before, "base", "mmlu")
    assert evaluation.suite_settings(before, "mmlu")["dtype"] == "bfloat16"  # as recorded before the key existed
    assert not evaluation.evaluation_done(study(tmp_path), "base", "mmlu")


def test_the_report_states_a_probes_own_dtype():
    from tradeoff.probes import PROBES
    from tradeoff.report import _prompting

    probes = [PROBES["mmlu"], PROBES["gsm8k"]]
    study = {"eval": {"dtype": "bfloat16"}, "probes": {"mmlu": {"num_fewshot": 0, "dtype": "float32"}, "gsm8k": {}}}
    line = _prompting(study, probes)
    assert "MMLU 0-shot, no chat template, model in float32" in line and line.count("float32") == 1
