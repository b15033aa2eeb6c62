"""Study configs and the commands they make: loading, --set overrides, bad keys in one line, seeds, the
evaluation command of each suite, and every shipped config."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT
from tests.minimal_study import MINIMAL_STUDY_YAML


def test_a_bad_study_config_is_one_line(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(MINIMAL_STUDY_YAML + "lr: 3\n")
    proc = subprocess.run(
        [sys.executable, "-m", "tradeoff.cli", "sweep", str(path)], cwd=ROOT, capture_output=True, text=True
    )
    assert proc.returncode == 2 and "unknown key(s) lr" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "line, message",
    [
        ("jobs: 0", "jobs must be a whole number >= 1"),
        ("training_jobs: two", "training_jobs must be a whole number >= 1"),
        ("evaluation_jobs: 0", "evaluation_jobs must be a whole number >= 1"),
        ("gpus: [0, -1]", "gpus must be a list of GPU indices"),
        ("seeds: [1, 1]", "seeds must be a list of distinct whole numbers"),
        ("seeds: []", "seeds must be a list of distinct whole numbers"),
        ("training_args: {seed: 3}", "training_args cannot set seed; list the study's seeds in `seeds`"),
        ("training_gpus: 2\ngpus: [0]", "training_gpus 2 needs at least that many `gpus` listed"),
        ("seeds_by_lr: {0.5: [1, 2]}", "seeds_by_lr names \\[0.5\\], which are not in learning_rates"),
        ("seeds_by_lr: {1.0e-4: [1, 1]}", "seeds_by_lr maps a learning rate to its seeds"),
        ("training_gpus: 2\ngpus: [0, 1]\nlauncher: [python]", "training_gpus > 1 needs an accelerate launcher"),
    ],
)
def test_bad_parallel_settings_name_the_key(tmp_path, line, message):
    from tradeoff.study import StudyConfigError, load_study

    path = tmp_path / "s.yaml"
    path.write_text(MINIMAL_STUDY_YAML + f"{line}\n")
    with pytest.raises(StudyConfigError, match=message):
        load_study(path)


def test_set_overrides_keys_of_the_file_and_refuses_what_the_file_would(tmp_path):
    from tradeoff.study import StudyConfigError, load_study

    path = tmp_path / "s.yaml"
    path.write_text(
        "name: x\nbase_model: hub/model\ntraining_config: c\nlearning_rates: [1e-4]\nspider_dir: data/spider\n"
    )
    study = load_study(
        path,
        [
            "base_model=/models/m",
            "learning_rates=[2e-4, 1e-4]",
            "eval.batch_size=32",
            "gguf_file=m.gguf",
            "probes.gsm8k.limit=5",
        ],
    )
    assert (study.base_model, study.learning_rates, study.eval.batch_size) == ("/models/m", [1e-4, 2e-4], 32)
    assert study.gguf_file == "m.gguf" and study.spider_dir == "data/spider"
    assert set(study.probes) == {"mmlu", "gsm8k"} and study.probes["gsm8k"].limit == 5
    assert study.config()["base_model"] == "/models/m" and "overrides" not in study.config()
    with pytest.raises(StudyConfigError, match="--set spider_dir: expected KEY=VALUE"):
        load_study(path, ["spider_dir"])
    with pytest.raises(StudyConfigError, match="unknown key\\(s\\) lr"):
        load_study(path, ["lr=3"])
    with pytest.raises(StudyConfigError, match="eval: unknown key\\(s\\) batch"):
        load_study(path, ["eval.batch=3"])


def test_the_studys_spider_prompting_reaches_every_evaluation_command(tmp_path):
    from tradeoff.evaluation import eval_command
    from tradeoff.probes import ProbeSettings
    from tradeoff.study import Study

    study = Study(name="s", base_model="m", training_config="c", learning_rates=[1e-3], spider_dir="data/spider")
    plain = eval_command(study, "base", "spider_exec", tmp_path)
    assert "--num_fewshot" not in plain and json.loads(plain[plain.index("--metadata") + 1]) == {
        "spider_dir": "data/spider"
    }
    study.eval.spider_num_fewshot, study.eval.spider_answer_prefix = 3, "SELECT"
    for tag in ("base", "lr-0.001-seed-42"):
        if tag != "base":  # an adapter is checked against its training record first
            adapter = tmp_path / "runs" / "adapters" / tag
            adapter.mkdir(parents=True)
            (adapter / "training_meta.json").write_text(json.dumps({"base_model": "m", "gguf_file": None}))
            study.runs_dir = str(tmp_path / "runs")
        command = eval_command(study, tag, "spider_exec", tmp_path)
        assert command[command.index("--num_fewshot") + 1] == "3"
        metadata = json.loads(command[command.index("--metadata") + 1])
        assert metadata == {"spider_dir": "data/spider", "answer_prefix": "SELECT", "fewshot": True}
    mmlu = eval_command(study, "base", "mmlu", tmp_path)
    assert mmlu[mmlu.index("--num_fewshot") + 1] == "0" and "--metadata" not in mmlu
    study.probes = {"humaneval": ProbeSettings(limit=3, max_gen_toks=512, apply_chat_template=False)}
    study.eval.apply_chat_template = True
    humaneval = eval_command(study, "base", "humaneval", tmp_path)
    assert "--confirm_run_unsafe_code" in humaneval and "--apply_chat_template" not in humaneval
    assert humaneval[humaneval.index("--limit") + 1] == "3" and "--num_fewshot" not in humaneval
    assert humaneval[humaneval.index("--gen_kwargs") + 1] == "max_gen_toks=512"
    study.probes["humaneval"].gen_kwargs = {"cache_implementation": "static", "disable_compile": True}
    humaneval = eval_command(study, "base", "humaneval", tmp_path)
    generation = humaneval[humaneval.index("--gen_kwargs") + 1]
    assert generation == "max_gen_toks=512,cache_implementation=static,disable_compile=True"


def test_gen_kwargs_belong_to_the_generation_probes(tmp_path):
    from tradeoff.study import StudyConfigError, load_study

    path = tmp_path / "s.yaml"
    path.write_text(MINIMAL_STUDY_YAML + "probes: {gsm8k: {gen_kwargs: {cache_implementation: static}}}\n")
    assert load_study(path).probes["gsm8k"].gen_kwargs == {"cache_implementation": "static"}
    for wrong in ("{mmlu: {gen_kwargs: {top_k: 1}}}", "{gsm8k: {gen_kwargs: static}}"):
        path.write_text(MINIMAL_STUDY_YAML + f"probes: {wrong}\n")
        with pytest.raises(StudyConfigError, match="gen_kwargs maps generation settings"):
            load_study(path)


def test_grouped_decode_puts_every_run_of_the_process_on_it(tmp_path):
    from tradeoff.evaluation import process_command
    from tradeoff.study import load_study

    path = tmp_path / "s.yaml"
    path.write_text(MINIMAL_STUDY_YAML)
    outputs = {"mmlu": tmp_path / "mmlu", "spider_exec": tmp_path / "spider"}
    assert "--grouped-decode" not in process_command(load_study(path), "base", outputs)
    command = process_command(load_study(path, ["eval.grouped_decode=true"]), "base", outputs)
    assert command[3] == "--grouped-decode" and len(command) == 4 + 2


def test_seeds_by_lr_adds_seeds_where_they_matter_and_the_report_reads_the_same_plan(tmp_path):
    from tradeoff.report_table import study_tags
    from tradeoff.study import load_study

    path = tmp_path / "s.yaml"
    path.write_text(
        "name: x\nbase_model: m\ntraining_config: c\nlearning_rates: [1e-4, 2e-3]\nspider_dir: d\n"
        "seeds: [7]\nseeds_by_lr: {2.0e-3: [7, 8, 9]}\n"
    )
    study = load_study(path)
    assert study.trainings() == [(1e-4, 7), (2e-3, 7), (2e-3, 8), (2e-3, 9)]
    assert study.model_tags() == ["base", "lr-0.0001-seed-7", "lr-0.002-seed-7", "lr-0.002-seed-8", "lr-0.002-seed-9"]
    results = tmp_path / "results"  # the report plans from the study.yaml the sweep writes
    results.mkdir()
    (results / "study.yaml").write_text(yaml.safe_dump(study.config()))
    for tag in study.model_tags():
        for suite in ("spider_exec", "mmlu"):
            (results / "eval" / tag / suite).mkdir(parents=True)
            (results / "eval" / tag / suite / "results.json").write_text("{}")
    done, unfinished = study_tags(results)
    assert [tag for tag, _ in done] == study.model_tags() and unfinished == []


def test_a_model_whose_suites_ran_on_different_adapter_weights_is_not_reported(tmp_path):
    """A retrained adapter evaluated on some suites only leaves one model's Spider beside another's probes."""
    from tradeoff.report_table import study_tags

    results = tmp_path / "results"
    results.mkdir()
    (results / "study.yaml").write_text(MINIMAL_STUDY_YAML + "probes: {mmlu: {}}\n")
    stamps = {"base": ("base", "base"), "lr-0.0001-seed-42": ("sha-of-first-training", "sha-of-second-training")}
    for tag, (spider_stamp, mmlu_stamp) in stamps.items():
        for suite, stamp in (("spider_exec", spider_stamp), ("mmlu", mmlu_stamp)):
            (results / "eval" / tag / suite).mkdir(parents=True)
            (results / "eval" / tag / suite / "results.json").write_text("{}")
            (results / "eval" / tag / suite / "evaluated_model.txt").write_text(f"{stamp}\n")
    assert study_tags(results) == ([("base", None)], ["lr-0.0001-seed-42"])
    (results / "eval" / "lr-0.0001-seed-42" / "mmlu" / "evaluated_model.txt").write_text("sha-of-first-training\n")
    assert study_tags(results) == ([("base", None), ("lr-0.0001-seed-42", 1e-4)], [])
    # a suite evaluated with other settings than the base's is not a paired comparison either
    settings = results / "eval" / "{}" / "mmlu" / "settings.json"
    Path(str(settings).format("base")).write_text('{"num_fewshot": 0}')
    assert study_tags(results) == ([("base", None), ("lr-0.0001-seed-42", 1e-4)], [])  # recorded for one side only
    Path(str(settings).format("lr-0.0001-seed-42")).write_text('{"num_fewshot": 5}')
    assert study_tags(results) == ([("base", None)], ["lr-0.0001-seed-42"])
    Path(str(settings).format("lr-0.0001-seed-42")).write_text('{"num_fewshot": 0}')
    assert study_tags(results) == ([("base", None), ("lr-0.0001-seed-42", 1e-4)], [])


@pytest.mark.parametrize("config", sorted((ROOT / "harness_configs").glob("study_*.yaml")), ids=lambda p: p.name)
def test_every_shipped_study_config_loads_with_known_probes(config):
    from tradeoff.probes import PROBES
    from tradeoff.study import load_study

    study = load_study(config)
    assert study.probes and set(study.probes) <= set(PROBES) and study.suites()[0] == "spider_exec"
