"""`tradeoff sweep` on the tiny CPU config, end to end: a crash and a re-run, the report's numbers, a time limit."""

import gzip
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml

from tests.conftest import ROOT, TASKS_DIR, TINY_CONFIG_PATH

RATES, SEEDS = [1e-2], [7, 8]
FIRST, SECOND = "lr-0.01-seed-7", "lr-0.01-seed-8"  # model tags, in plan order


@pytest.fixture
def study_file(tmp_path, tiny_model, sample_spider, synthetic_mmlu, sample_gsm8k, sample_humaneval):
    tasks = tmp_path / "tasks"
    for folder in ("spider_exec", "humaneval"):  # the probes' overrides go beside them
        shutil.copytree(TASKS_DIR / folder, tasks / folder)
    study = {
        "name": "tiny",
        "base_model": str(tiny_model),
        "training_config": str(TINY_CONFIG_PATH),
        "learning_rates": RATES,
        "seeds": SEEDS,
        "spider_dir": str(sample_spider),
        "probe_sources": {"mmlu": str(synthetic_mmlu), "gsm8k": str(sample_gsm8k), "humaneval": str(sample_humaneval)},
        "probes": {
            "mmlu": {"num_fewshot": 0, "limit": 1},
            "gsm8k": {"num_fewshot": 0, "limit": 2, "max_gen_toks": 8},
            "humaneval": {"limit": 2, "max_gen_toks": 8},
        },
        "training_args": {"max_steps": 4, "save_steps": 2},
        "launcher": ["python"],
        "tasks_dir": str(tasks),
        "results_dir": str(tmp_path / "results"),
        "runs_dir": str(tmp_path / "runs"),
        "eval": {
            "device": "cpu",
            "dtype": "float32",
            "batch_size": 4,
            "max_gen_toks": 8,
            "spider_limit": 4,
        },
    }
    path = tmp_path / "study.yaml"
    path.write_text("# tradeoff sweep study.yaml\n" + yaml.safe_dump(study))
    return path


def _sweep(study_file, *flags, **kwargs):
    return subprocess.Popen(
        [sys.executable, "-m", "tradeoff.cli", "sweep", str(study_file), *flags],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kwargs,
    )


def _steps(results):
    return [json.loads(line) for line in (results / "commands.jsonl").read_text().splitlines()]


def _scores(results, tag, suite):
    """Each question's score, read straight from the files (not through the report's own reader)."""
    name = "samples_spider_exec.jsonl.gz" if suite == "spider_exec" else "questions.jsonl.gz"
    with gzip.open(results / "eval" / tag / suite / name, "rt") as f:
        rows = [json.loads(line) for line in f]
    if suite == "spider_exec":
        return np.array([r["exec_match"] for r in sorted(rows, key=lambda r: r["doc"]["index"])], dtype=float)
    if suite != "mmlu":
        return np.array([r["score"] for r in sorted(rows, key=lambda r: (r["task"], r["doc_id"]))], dtype=float)
    assert all(r["acc"] == float(r["prediction"] == r["target"]) for r in rows)
    return np.array([r["acc"] for r in sorted(rows, key=lambda r: (r["task"], r["doc_id"]))], dtype=float)


SUITES = (("spider_exec", "spider_ex"), ("mmlu", "mmlu_acc"), ("gsm8k", "gsm8k_em"), ("humaneval", "humaneval_pass1"))


@pytest.mark.slow
def test_crash_then_rerun_finishes_without_redoing_work_and_the_report_adds_up(study_file, tmp_path):
    results = tmp_path / "results"
    first = _sweep(study_file, start_new_session=True)
    deadline = time.monotonic() + 300
    record = results / "training" / f"{FIRST}.json"
    while not record.is_file():  # the first training has finished: its record is kept at once
        assert first.poll() is None, first.stdout.read()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.killpg(first.pid, signal.SIGKILL)  # the sweep and whatever it was running
    first.wait()
    done_before = [s["step"] for s in _steps(results)]
    assert f"train-{FIRST}" in done_before and not (results / "report.md").exists()
    weights = tmp_path / "runs" / "adapters" / FIRST / "adapter_model.safetensors"
    assert json.loads(record.read_text())["adapter_sha256"] == hashlib.sha256(weights.read_bytes()).hexdigest()

    second = _sweep(study_file, "--jobs", "2")  # the rest two at a time: evaluations beside the second training
    output = second.communicate(timeout=900)[0]
    assert second.returncode == 0, output[-3000:]
    steps = [s["step"] for s in _steps(results)]
    timing = {s["step"]: (s["started"], s["finished"]) for s in _steps(results)}
    assert timing["eval-base"][0] < timing[f"train-{SECOND}"][1]  # it ran while the training did
    assert all(s["rc"] == 0 for s in _steps(results))
    assert steps.count(f"train-{FIRST}") == 1  # finished before the crash: not redone
    assert steps.count(f"train-{SECOND}") == 1
    for tag in ("base", FIRST, SECOND):  # one evaluation process per model, for every suite
        assert steps.count(f"eval-{tag}") == 1
        assert all((results / "eval" / tag / suite / "evaluated_model.txt").is_file() for suite, _ in SUITES)
    assert not list(results.rglob("*.partial"))
    # each seed trained with its own seed, into its own adapter
    metas = {tag: json.loads((results / "training" / f"{tag}.json").read_text()) for tag in (FIRST, SECOND)}
    assert [metas[t]["seed"] for t in (FIRST, SECOND)] == SEEDS
    weights = [
        (tmp_path / "runs" / "adapters" / t / "adapter_model.safetensors").read_bytes() for t in (FIRST, SECOND)
    ]
    assert weights[0] != weights[1]

    (results / "training" / f"{SECOND}.json").unlink()  # a results folder without the training records
    third = _sweep(study_file)
    assert third.communicate(timeout=300)[0].count("everything was already done") == 1

    written = json.loads((results / "summary.json").read_text())
    summary = {row["model"]: row for row in written["models"]}
    for tag in (FIRST, SECOND):
        for suite, prefix in SUITES:
            model, base = _scores(results, tag, suite), _scores(results, "base", suite)
            assert summary[tag][prefix] == pytest.approx(model.mean())
            assert summary[tag][f"{prefix}_delta"] == pytest.approx(model.mean() - base.mean())
    assert summary["base"]["mmlu_acc_n"] == 57 and summary["base"]["spider_ex_n"] == 4
    assert summary["base"]["gsm8k_em_n"] == 2 and summary["base"]["humaneval_pass1_n"] == 2
    # the learning rate over its seeds: the mean, the spread, and the change of the seed-averaged scores
    [lr_row] = [row for row in written["learning_rates"] if row["model"] == "lr-0.01"]
    assert lr_row["seeds"] == SEEDS
    for suite, prefix in SUITES:
        per_seed = [_scores(results, tag, suite).mean() for tag in (FIRST, SECOND)]
        assert lr_row[prefix] == pytest.approx(np.mean(per_seed))
        assert (lr_row[f"{prefix}_seed_min"], lr_row[f"{prefix}_seed_max"]) == pytest.approx(
            (min(per_seed), max(per_seed))
        )
        assert lr_row[f"{prefix}_mcnemar_p"] == max(summary[t][f"{prefix}_mcnemar_p"] for t in (FIRST, SECOND))
    report = (results / "report.md").read_text()
    assert report.startswith("**Evaluated on a subset") and "## Learning rates over seeds" in report
    assert "- GSM8K: the base model scores" in report and "- HumanEval pass@1: the base model scores" in report
    assert (results / "tradeoff.png").stat().st_size > 10_000 and (results / "metrics_vs_lr.png").is_file()
    assert json.loads((results / "training" / f"{SECOND}.json").read_text())["seed"] == 8  # copied again


@pytest.mark.slow
def test_a_time_limit_stops_the_running_step_and_exits_3_with_an_archive(study_file, tmp_path):
    archive = tmp_path / "pieces" / "results.tar.gz"
    archive.parent.mkdir()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tradeoff.cli",
            "sweep",
            str(study_file),
            "--time-limit",
            "12",  # room for the preparation even on a loaded machine; the training runs far longer
            "--set",
            "training_args={max_steps: 100000, save_steps: 100000}",
            "--archive",
            str(archive),
        ],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert "stopped at the time limit" in proc.stderr and "run the same command again to resume" in proc.stderr
    results = tmp_path / "results"
    assert (
        not (results / "report.md").exists()
        and not (tmp_path / "runs" / "adapters" / FIRST / "training_meta.json").exists()
    )
    assert [s["rc"] for s in _steps(results)][-1] != 0  # the stopped training is in the command log
    import tarfile

    with tarfile.open(archive) as tar:
        assert "results/study.yaml" in tar.getnames()
    assert yaml.safe_load((results / "study.yaml").read_text())["training_args"]["max_steps"] == 100000  # as run
