"""Probe preparation (tradeoff prepare-probes): each local release becomes the hub's layout, and the harness's
own task reads it with nothing changed but where the data comes from."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import datasets
import lm_eval
import pytest
from lm_eval.tasks._yaml_loader import load_yaml

from tests.conftest import HUMANEVAL_PROBLEMS, TASKS_DIR
from tradeoff.cli import main
from tradeoff.local_datasets import SourceError
from tradeoff.probe_data import HARNESS_TASKS, prepare_probes

HARNESS = Path(lm_eval.__file__).resolve().parent / "tasks"


def config(path: Path) -> dict:
    return load_yaml(path, resolve_func=False, recursive=True)


def without(cfg: dict, *keys: str) -> dict:
    return {k: v for k, v in cfg.items() if k not in keys}


@pytest.fixture
def prepared(tmp_path, synthetic_mmlu, sample_gsm8k, sample_humaneval):
    tasks = tmp_path / "tasks"
    summary = prepare_probes(
        {"mmlu": synthetic_mmlu, "gsm8k": sample_gsm8k, "humaneval": sample_humaneval}, tmp_path / "data", tasks
    )
    return tmp_path / "data", tasks, summary


def test_gsm8k_becomes_the_hubs_main_config_and_the_harness_task_reads_it(prepared):
    data, tasks, summary = prepared
    assert summary["gsm8k"] == {"train": 6, "test": 3}
    loaded = datasets.load_dataset(str(data / "gsm8k"), "main")
    assert loaded["test"].column_names == ["question", "answer"] and loaded["test"].num_rows == 3
    assert loaded["test"][0]["answer"].splitlines()[-1].startswith("#### ")
    harness = config(HARNESS / "gsm8k" / "gsm8k.yaml")
    local = config(tasks / "gsm8k.yaml")
    assert local["dataset_path"] == str(data / "gsm8k")
    assert without(local, "dataset_path") == without(harness, "dataset_path")


def test_humaneval_becomes_the_hubs_layout_and_the_plugin_task_reads_it(prepared):
    data, tasks, summary = prepared
    assert summary["humaneval"] == {"test": 2}
    loaded = datasets.load_dataset(str(data / "humaneval"))
    assert loaded["test"].to_list() == HUMANEVAL_PROBLEMS
    plugin = config(TASKS_DIR / "humaneval" / "humaneval.yaml")
    local = config(tasks / "humaneval.yaml")
    assert plugin["dataset_path"] == "openai/openai_humaneval"  # without preparation: the hub
    assert without(local, "dataset_path") == without(plugin, "dataset_path")


def test_the_plugin_humaneval_keeps_the_harness_prompt_and_generation_settings():
    plugin = config(TASKS_DIR / "humaneval" / "humaneval.yaml")
    harness = config(HARNESS / "humaneval" / "humaneval.yaml")
    kept = ("task", "dataset_path", "output_type", "test_split", "doc_to_text", "doc_to_target")
    kept += ("generation_kwargs", "repeats", "num_fewshot", "unsafe_code")
    assert {k: plugin[k] for k in kept} == {k: harness[k] for k in kept}
    assert plugin["filter_list"][0]["name"] == harness["filter_list"][0]["name"]  # same results keys


def test_every_mmlu_continuation_subject_reads_the_local_mmlu_copy(prepared):
    data, tasks, summary = prepared
    harness_files = sorted((HARNESS_TASKS / "mmlu" / "continuation").glob("mmlu_*.yaml"))
    assert summary["mmlu_continuation"] == {"subjects": len(harness_files)} and len(harness_files) == 57
    for path in harness_files:
        local = config(tasks / "mmlu_continuation" / path.name)
        assert local["dataset_path"] == str(data / "mmlu")
        assert without(local, "dataset_path") == without(config(path), "dataset_path"), path.name


def test_bad_sources_get_one_line_naming_the_file(tmp_path, sample_gsm8k):
    with pytest.raises(SourceError, match=r"train.jsonl: not found; --gsm8k takes the release folder"):
        prepare_probes({"gsm8k": tmp_path}, tmp_path / "data", tmp_path / "tasks")
    broken = tmp_path / "gsm8k"
    shutil.copytree(sample_gsm8k, broken)
    with (broken / "test.jsonl").open("a") as f:
        f.write(json.dumps({"question": "q"}) + "\n")
    with pytest.raises(SourceError, match=r"test.jsonl:4: missing string field\(s\) answer"):
        prepare_probes({"gsm8k": broken}, tmp_path / "data", tmp_path / "tasks")
    bad = tmp_path / "HumanEval.jsonl.gz"
    with gzip.open(bad, "wt") as f:
        f.write("{not json\n")
    with pytest.raises(SourceError, match=r"HumanEval.jsonl.gz:1: not valid JSON"):
        prepare_probes({"humaneval": bad}, tmp_path / "data", tmp_path / "tasks")
    assert not (tmp_path / "tasks").exists()  # nothing written that could pass for a preparation


def test_the_command_needs_a_source_and_reports_a_bad_one(tmp_path, capsys):
    assert main(["prepare-probes", "--tasks-dir", str(tmp_path / "t")]) == 2
    assert "give at least one of --mmlu, --gsm8k, --humaneval" in capsys.readouterr().err
    assert main(["prepare-probes", "--humaneval", str(tmp_path / "missing.jsonl.gz")]) == 2
    assert "missing.jsonl.gz: not found" in capsys.readouterr().err


@pytest.mark.slow
def test_every_probe_runs_offline_through_the_lm_eval_command_after_preparation(
    tmp_path, synthetic_mmlu, sample_gsm8k, sample_humaneval, sample_spider, tiny_model
):
    from tests.lm_eval_cli import run_spider_exec

    tasks = tmp_path / "tradeoff_tasks"
    for folder in ("spider_exec", "humaneval"):
        shutil.copytree(TASKS_DIR / folder, tasks / folder)
    sources = {"mmlu": synthetic_mmlu, "gsm8k": sample_gsm8k, "humaneval": sample_humaneval}
    prepare_probes(sources, tmp_path / "data", tasks / "_local")
    probes = "mmlu,mmlu_continuation,gsm8k,humaneval,spider_exec"
    extra = ("--tasks", probes, "--include_path", str(tasks), "--confirm_run_unsafe_code")
    results = run_spider_exec(f"pretrained={tiny_model},dtype=float32", sample_spider, tmp_path / "out", 2, *extra)
    scores = results["results"]
    assert {"mmlu", "mmlu_continuation", "gsm8k", "humaneval", "spider_exec"} <= set(scores)
    assert scores["humaneval"]["pass_at_k,create_test"] in (0.0, 0.5, 1.0)
    assert "exact_match,flexible-extract" in scores["gsm8k"]
