"""eval.cache_requests: the probes' requests built once per study, in a cache named by what they are built from."""

from __future__ import annotations

import json
import os
import shutil

import pytest

from tests.conftest import TASKS_DIR
from tests.minimal_study import MINIMAL_STUDY_YAML


def _study(tmp_path, **eval_settings):
    from tradeoff.probes import ProbeSettings
    from tradeoff.study import EvalSettings, Study

    tasks = tmp_path / "tasks"
    if not tasks.exists():
        shutil.copytree(TASKS_DIR / "spider_exec", tasks / "spider_exec")
    return Study(
        name="s",
        base_model="m",
        training_config="c",
        learning_rates=[1e-3],
        spider_dir="d",
        probes={"gsm8k": ProbeSettings(num_fewshot=0), "mmlu": ProbeSettings(num_fewshot=0)},
        probe_sources={"gsm8k": "data/gsm8k"},
        tasks_dir=str(tasks),
        results_dir=str(tmp_path / "results"),
        runs_dir=str(tmp_path / "runs"),
        eval=EvalSettings(**eval_settings),
    )


def test_only_probes_read_from_local_copies_use_the_cache(tmp_path):
    from tradeoff.evaluation import eval_command

    study = _study(tmp_path, cache_requests=True)
    gsm8k = eval_command(study, "base", "gsm8k", tmp_path / "out")
    assert gsm8k[gsm8k.index("--cache_requests") + 1] == "true"
    assert "--cache_requests" not in eval_command(study, "base", "mmlu", tmp_path / "out")  # read from the hub
    assert "--cache_requests" not in eval_command(_study(tmp_path), "base", "gsm8k", tmp_path / "out")


def test_a_study_without_local_copies_cannot_cache(tmp_path):
    from tradeoff.study import StudyConfigError, load_study

    path = tmp_path / "s.yaml"
    path.write_text(MINIMAL_STUDY_YAML)
    with pytest.raises(StudyConfigError, match="eval.cache_requests needs probe_sources"):
        load_study(path, ["eval.cache_requests=true"])
    assert load_study(path, ["eval.cache_requests=true", "probe_sources={gsm8k: data/gsm8k}"]).eval.cache_requests


def test_the_cache_folder_changes_with_the_data_and_the_tasks(tmp_path):
    from tradeoff.request_cache import request_cache_dir

    study = _study(tmp_path)
    data = tmp_path / "runs" / "probe-data" / "gsm8k" / "test.jsonl"
    data.parent.mkdir(parents=True)
    data.write_text('{"question": "1+1?", "answer": "#### 2"}\n')
    first = request_cache_dir(study)
    assert first.parent == tmp_path / "runs" / "request-cache"
    assert request_cache_dir(study) == first  # the same files, the same cache
    data.write_text('{"question": "2+2?", "answer": "#### 4"}\n')
    second = request_cache_dir(study)
    assert second != first
    (tmp_path / "tasks" / "spider_exec" / "spider_exec.yaml").write_text("task: changed\n")
    assert request_cache_dir(study) not in (first, second)


def test_each_evaluation_process_gets_the_study_cache(tmp_path, monkeypatch):
    from tradeoff import evaluation
    from tradeoff.request_cache import ENVIRONMENT_VARIABLE, request_cache_dir

    seen = []
    monkeypatch.setattr(evaluation, "run_logged", lambda study, step, command, env: seen.append(env))
    study = _study(tmp_path, cache_requests=True)
    evaluation.evaluate_model(study, "base", ["gsm8k"], {"CUDA_VISIBLE_DEVICES": "1"})
    assert seen == [{"CUDA_VISIBLE_DEVICES": "1", ENVIRONMENT_VARIABLE: str(request_cache_dir(study).resolve())}]
    seen.clear()
    evaluation.evaluate_model(_study(tmp_path), "base", ["gsm8k"], {})
    assert seen == [{}]


@pytest.mark.slow
def test_a_cached_run_scores_what_a_fresh_one_does(tmp_path, tiny_model, sample_gsm8k):
    """Two models' processes in a row (here the same model twice): the second reads the requests the first
    built, and writes the same results."""
    import subprocess

    from tests.conftest import ROOT
    from tradeoff.evaluation import process_command
    from tradeoff.probe_data import prepare_probes
    from tradeoff.probes import ProbeSettings
    from tradeoff.request_cache import ENVIRONMENT_VARIABLE, request_cache_dir

    study = _study(tmp_path, cache_requests=True, device="cpu", dtype="float32", batch_size="3")
    study.base_model = str(tiny_model)
    study.probes = {"gsm8k": ProbeSettings(num_fewshot=0, limit=3, max_gen_toks=8)}
    prepare_probes({"gsm8k": sample_gsm8k}, tmp_path / "runs" / "probe-data", tmp_path / "tasks" / "_local")
    cache = request_cache_dir(study)
    env = {**os.environ, ENVIRONMENT_VARIABLE: str(cache)}
    logs, results = [], []
    for run in ("first", "second"):
        command = process_command(study, "base", {"gsm8k": tmp_path / run})
        proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
        logs.append(proc.stdout + proc.stderr)
        [found] = (tmp_path / run).rglob("results_*.json")
        results.append(json.loads(found.read_text())["results"])
    assert any(cache.glob("requests-gsm8k-*"))
    assert "Building contexts for gsm8k" in logs[0] and "Building contexts for gsm8k" not in logs[1]
    assert results[0] == results[1]
