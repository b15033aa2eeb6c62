"""The GPU benchmarks run end to end on CPU with the tiny model: results, ratios and profiles come out."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def _run(*args, timeout=600):
    proc = subprocess.run(
        [sys.executable, *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.mark.slow
def test_bench_trainer_compares_variants_over_the_same_questions(tiny_model, sample_spider, tmp_path):
    out = tmp_path / "trainer.json"
    _run(
        "-m",
        "benchmarks.bench_trainer",
        "--config",
        ROOT / "harness_configs" / "sft_tiny_cpu.yaml",
        "--model",
        tiny_model,
        "--spider_dir",
        sample_spider,
        "--examples",
        12,
        "--warmup",
        1,
        "--profile_steps",
        1,
        "--profile_dir",
        tmp_path / "profiles",
        "--json",
        out,
        "--flags",
        "--train_sampling_strategy random",
        "--variants",
        "config",
        "padding_free=--padding_free true",
        "varlen=--padding_free true --attn_implementation torch_varlen",
    )
    results = json.loads(out.read_text())["results"]
    assert set(results) == {"config", "padding_free", "varlen"}
    config, padding_free = results["config"], results["padding_free"]
    assert config["speedup_vs_first"] == 1.0 and padding_free["speedup_vs_first"] > 0
    # both variants trained the same questions: same tokens per question, and every step after warm-up and
    # profiling was timed (12 questions / batch 4 = 3 steps; 1 warm-up, 1 profiled)
    assert config["tokens_per_example"] == padding_free["tokens_per_example"] and config["examples"] == 12
    assert config["steps_timed"] == padding_free["steps_timed"] == 1
    # same questions in the same order: padded and padding-free batches give the same losses
    assert config["first_losses"] == pytest.approx(padding_free["first_losses"], rel=1e-3)
    # ... and so does attention per sequence (torch_varlen's CPU path), through backward and optimizer steps
    varlen = results["varlen"]
    assert (
        varlen["first_losses"] == pytest.approx(config["first_losses"], rel=1e-3) and len(varlen["first_losses"]) == 3
    )
    assert varlen["attention"] == "torch_varlen" and set(varlen["attention_calls"]) == {"per_sequence_sdpa"}
    profile = (tmp_path / "profiles" / "padding_free.txt").read_text()
    assert profile.startswith("steps 2-2") and "aten::" in profile


@pytest.mark.slow
def test_bench_trainer_launches_a_variant_over_two_processes(tiny_model, sample_spider, tmp_path):
    """A variant under the shipped DDP accelerate config (gloo on CPUs): tokens/s counts both processes' tokens."""
    out = tmp_path / "trainer-ddp.json"
    _run(
        "-m",
        "benchmarks.bench_trainer",
        "--config",
        ROOT / "harness_configs" / "sft_tiny_cpu.yaml",
        "--model",
        tiny_model,
        "--spider_dir",
        sample_spider,
        "--examples",
        16,
        "--warmup",
        1,
        "--json",
        out,
        "--variants",
        "one=",
        "ddp=--accelerate_config harness_configs/accelerate/multi_gpu.yaml --num_processes 2",
    )
    one, ddp = (json.loads(out.read_text())["results"][name] for name in ("one", "ddp"))
    assert (one["processes"], one["examples_per_step"], one["steps_timed"]) == (1, 4, 3)  # 16 questions, 1 warm-up
    assert (ddp["processes"], ddp["examples_per_step"], ddp["steps_timed"]) == (2, 8, 1)
    assert (
        ddp["distributed_type"] == "DistributedType.MULTI_CPU"
        and ddp["tokens_per_example"] == one["tokens_per_example"]
    )


@pytest.mark.slow
def test_bench_spider_eval_reports_wall_time_and_accuracy(tiny_model, sample_spider, tmp_path):
    out = tmp_path / "eval.json"
    _run(
        "-m",
        "benchmarks.bench_spider_eval",
        "--model",
        tiny_model,
        "--spider_dir",
        sample_spider,
        "--device",
        "cpu",
        "--extra_model_args",
        "dtype=float32",
        "--logs",
        tmp_path / "logs",
        "--json",
        out,
        "--variants",
        "b4=--batch_size 4 --limit 4",
    )
    result = json.loads(out.read_text())["results"]["b4"]
    assert result["wall_s"] > 0 and result["questions"] == {"spider_exec": 4} and 0.0 <= result["exec_match"] <= 1.0
    assert "Running generate_until requests" in (tmp_path / "logs" / "b4.log").read_text()


@pytest.mark.slow
def test_decode_agreement_compares_both_decode_attentions_with_float32(tiny_model, sample_spider):
    proc = _run(
        "-m",
        "benchmarks.decode_agreement",
        "--model",
        tiny_model,
        "--spider_dir",
        sample_spider,
        "--batch_size",
        4,
        "--tokens",
        6,
    )
    lines = [line for line in proc.stdout.splitlines() if "float32 reference" in line]
    assert [line.split(":")[0] for line in lines] == ["transformers sdpa, bf16", "grouped_decode, bf16"]
    assert all(" of 4 rows equal the float32 reference over 6 tokens" in line for line in lines)


def test_compare_samples_counts_what_differs(tmp_path):
    def write(name, rows):
        path = tmp_path / f"{name}.jsonl"
        path.write_text("".join(json.dumps(row) + "\n" for row in rows))
        return path

    def row(doc_id, resp, sql, match):
        return {"doc_id": doc_id, "resps": [[resp]], "filtered_resps": [sql], "exec_match": match}

    a = write("a", [row(0, "SELECT 1;", "SELECT 1", 1), row(1, "x\nSELECT 2", "SELECT 2", 0), row(2, "q", "q", 0)])
    b = write("b", [row(0, "SELECT 1;", "SELECT 1", 1), row(1, "y\nSELECT 2", "SELECT 2", 0), row(2, "r", "r", 1)])
    result = json.loads(_run("-m", "benchmarks.compare_samples", a, b).stdout)
    assert result == {
        "questions": 3,
        "raw_differ": 2,
        "sql_differ": 1,
        "exec_match_differ": [2],
        "exec_matches": [1, 2],
    }


def _prepared_tiny_study(tmp_path, tiny_model, sample_spider, sample_gsm8k, gsm8k_limit: int, **eval_settings):
    """study.yaml of the tiny model on spider_exec and GSM8K's sample, its probe data prepared (as a sweep leaves
    it), for the evaluation benchmarks."""
    import shutil

    import yaml

    from tests.conftest import TASKS_DIR
    from tradeoff.probe_data import prepare_probes

    tasks = tmp_path / "tasks"
    shutil.copytree(TASKS_DIR / "spider_exec", tasks / "spider_exec")
    prepare_probes({"gsm8k": sample_gsm8k}, tmp_path / "probe-data", tasks / "_local")
    study = {
        "name": "tiny",
        "base_model": str(tiny_model),
        "training_config": "unused.yaml",
        "learning_rates": [1e-3],
        "spider_dir": str(sample_spider),
        "probes": {"gsm8k": {"num_fewshot": 0, "limit": gsm8k_limit, "max_gen_toks": 8}},
        "tasks_dir": str(tasks),
        "eval": {"device": "cpu", "dtype": "float32", "max_gen_toks": 8, **eval_settings},
    }
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(study))
    return tmp_path / "study.yaml"


@pytest.mark.slow
def test_bench_eval_process_times_both_ways_on_the_same_commands(tmp_path, tiny_model, sample_spider, sample_gsm8k):
    study = _prepared_tiny_study(
        tmp_path, tiny_model, sample_spider, sample_gsm8k, gsm8k_limit=2, batch_size=2, spider_limit=3
    )
    out = tmp_path / "bench.json"
    proc = _run("-m", "benchmarks.bench_eval_process", study, "--out", out)
    result = json.loads(out.read_text())
    assert result["suites"] == ["gsm8k", "spider_exec"]  # the sweep's order
    assert set(result["separate_processes_s"]) == {"spider_exec", "gsm8k"}
    assert result["speedup"] == pytest.approx(result["separate_total_s"] / result["one_process_s"], abs=0.011)
    assert result["same_scores"] == {"spider_exec": True, "gsm8k": True}
    assert "same scores: True" in proc.stdout


@pytest.mark.slow
def test_bench_study_gpus_runs_the_study_on_one_gpu_and_on_several(tmp_path, tiny_model, sample_spider, sample_gsm8k):
    import shutil

    import yaml

    from tests.conftest import TASKS_DIR, TINY_CONFIG_PATH

    tasks = tmp_path / "tasks"
    shutil.copytree(TASKS_DIR / "spider_exec", tasks / "spider_exec")
    study = {
        "name": "tiny",
        "base_model": str(tiny_model),
        "training_config": str(TINY_CONFIG_PATH),
        "learning_rates": [1e-3, 2e-3],
        "spider_dir": str(sample_spider),
        "probe_sources": {"gsm8k": str(sample_gsm8k)},
        "probes": {"gsm8k": {"num_fewshot": 0, "limit": 2, "max_gen_toks": 8}},
        "tasks_dir": str(tasks),
        "training_args": {"max_steps": 2},
        "launcher": ["python"],
        "eval": {"device": "cpu", "dtype": "float32", "batch_size": 2, "max_gen_toks": 8, "spider_limit": 3},
    }
    (tmp_path / "study.yaml").write_text(yaml.safe_dump(study))
    out = tmp_path / "bench.json"
    _run("-m", "benchmarks.bench_study_gpus", tmp_path / "study.yaml", "--out", out, timeout=900)
    result = json.loads(out.read_text())
    assert result["sides"]["one_gpu"] == ["gpus=[0]"]
    assert result["sides"]["gpus"] == ["gpus=[0, 1]", "jobs=2", "training_jobs=2"]
    assert result["speedup"] == pytest.approx(result["wall_s"]["one_gpu"] / result["wall_s"]["gpus"], abs=0.011)
    models = ["base", "lr-0.001-seed-42", "lr-0.002-seed-42"]
    assert all(sorted(result["spider_ex"][side]) == sorted(models) for side in ("one_gpu", "gpus"))
    assert result["spider_ex"]["one_gpu"]["base"] == result["spider_ex"]["gpus"]["base"]  # the same model, greedy
    # which GPU ran what: the several-GPU side used both
    steps = Path(result["work_dir"]) / "gpus" / "results" / "commands.jsonl"
    pinned = {json.loads(line)["env"].get("CUDA_VISIBLE_DEVICES") for line in steps.read_text().splitlines()}
    assert pinned == {"0", "1"}


@pytest.mark.slow
def test_bench_eval_settings_compares_the_study_with_a_changed_setting(
    tmp_path, tiny_model, sample_spider, sample_gsm8k
):
    study = _prepared_tiny_study(tmp_path, tiny_model, sample_spider, sample_gsm8k, gsm8k_limit=3, batch_size=3)
    out = tmp_path / "bench.json"
    static = "probes.gsm8k.gen_kwargs={cache_implementation: static, disable_compile: true}"
    proc = _run("-m", "benchmarks.bench_eval_settings", study, "--suites", "gsm8k",
                "--variant", "eval.grouped_decode=true", "--variant", static, "--out", out)  # fmt: skip
    result = json.loads(out.read_text())
    assert result["variant"] == ["eval.grouped_decode=true", static]
    assert result["speedup"] == pytest.approx(result["baseline_s"] / result["variant_s"], abs=0.011)
    gsm8k = result["scores"]["gsm8k"]
    assert gsm8k["questions"] == 3 and 0 <= gsm8k["different_answers"] <= 3
    work = Path(result["work_dir"])
    assert "grouped decode on for every run" in (work / "variant.log").read_text()
    assert "grouped decode on" not in (work / "baseline.log").read_text()
    assert "cache_implementation=static" in (work / "variant.log").read_text()
    assert "gsm8k: " in proc.stdout and "answers differ" in proc.stdout


def test_profile_loglikelihood_samples_whole_questions_compares_dtypes_and_profiles_the_harness_pass(
    tmp_path, tiny_model, synthetic_mmlu, capsys
):
    from benchmarks.profile_loglikelihood import main
    from tradeoff.probe_data import prepare_probes

    prepare_probes({"mmlu": str(synthetic_mmlu)}, tmp_path / "data", tmp_path / "tasks" / "_local")
    out = tmp_path / "profile.json"
    argv = ["--model", str(tiny_model), "--include_path", str(tmp_path / "tasks"), "--tasks", "mmlu"]
    argv += ["--every", "2", "--batch_size", "4", "16", "--dtype", "float32", "bfloat16", "--device", "cpu"]
    assert main([*argv, "--profile", "--json", str(out)]) == 0
    measured = json.loads(out.read_text())
    assert measured["requests"] == 4 * 57 * 2  # doc_id 0 and 2 of the 3 questions per subject, four options each
    first, second, third, _ = measured["runs"]
    assert [(run["dtype"], run["batch_size"]) for run in measured["runs"]] == [
        ("float32", 4), ("float32", 16), ("bfloat16", 4), ("bfloat16", 16)
    ]  # fmt: skip
    assert first["wall_s"] > 0
    assert first["largest_loglikelihood_change"] == 0 and first["questions_answered_otherwise"] == 0
    assert 0 <= first["tied_questions"] <= 57 * 2
    assert second["questions_answered_otherwise"] <= 2 * 57 and second["largest_loglikelihood_change"] < 1e-3
    assert third["largest_loglikelihood_change"] > 1e-3  # compared across dtypes: bf16 moves the log-likelihoods
    assert measured["device_busy_share"] is None  # no device on a CPU run
    assert "Self CPU" in capsys.readouterr().out


def test_chosen_answers_are_each_questions_best_option_first_among_equals_and_ties_are_counted():
    from lm_eval.api.instance import Instance

    from benchmarks.profile_loglikelihood import chosen_answers, tied_questions

    requests = [
        Instance("loglikelihood", doc={}, arguments=("q", f" {o}"), idx=o, metadata=(t, d, 1))
        for t, d in (("a", 0), ("b", 0))
        for o in range(3)
    ]
    scores = [(-3.0, False), (-1.0, False), (-2.0, False), (-1.0, False), (-5.0, False), (-1.0, False)]
    assert chosen_answers(requests, scores) == {("a", 0): 1, ("b", 0): 0}
    assert tied_questions(requests, scores) == 1  # b: -1.0 twice at the top
