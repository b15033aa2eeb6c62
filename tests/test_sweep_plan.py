"""What the sweep plans and what it does not do again (no models run): an adapter retrained or evaluated
elsewhere, a changed setting, a stopped evaluation's completed suites, the training record the report reads, a
training over two GPUs. Where the extra seeds go: tests/test_seeds_around_best.py."""

import hashlib
import json
import shutil

import pytest

from tests.minimal_study import evaluated_on_spider, small_study


def test_an_adapter_is_not_evaluated_on_another_base(tmp_path):
    from tradeoff.evaluation import SweepError, check_adapter_base

    (tmp_path / "training_meta.json").write_text(json.dumps({"base_model": "models/a", "gguf_file": None}))
    check_adapter_base(tmp_path, "models/a", None)
    with pytest.raises(SweepError, match="adapter was trained on models/a .no GGUF., not on models/b"):
        check_adapter_base(tmp_path, "models/b", None)
    with pytest.raises(SweepError, match="not on models/a .x.gguf."):
        check_adapter_base(tmp_path, "models/a", "x.gguf")


def test_a_retrained_adapter_is_evaluated_again(tmp_path):
    from tradeoff.evaluation import eval_dir
    from tradeoff.sweep import adapter_dir, plan

    study = small_study(tmp_path)
    adapter = adapter_dir(study, 1e-3, 42)  # a study without `seeds` trains seed 42
    adapter.mkdir(parents=True)
    (adapter / "training_meta.json").write_text("{}")
    (adapter / "adapter_model.safetensors").write_bytes(b"first training")
    for tag in ("base", "lr-0.001-seed-42"):  # what the sweep leaves after evaluating
        for suite in study.suites():
            eval_dir(study, tag, suite).mkdir(parents=True)
            (eval_dir(study, tag, suite) / "evaluated_model.txt").write_text(
                "base\n" if tag == "base" else f"{hashlib.sha256(b'first training').hexdigest()}\n"
            )

    def done():
        return {step.name for step in plan(study) if step.done()}

    assert {"train-lr-0.001-seed-42", "eval-base", "eval-lr-0.001-seed-42"} <= done()
    (adapter / "adapter_model.safetensors").write_bytes(b"second training")
    assert "eval-lr-0.001-seed-42" not in done() and "eval-base" in done()
    (adapter / "training_meta.json").unlink()  # the training will run again: its old evaluations do not count
    (adapter / "adapter_model.safetensors").write_bytes(b"first training")
    assert not {"train-lr-0.001-seed-42", "eval-lr-0.001-seed-42"} & done()
    (eval_dir(study, "base", "spider_exec") / "evaluated_model.txt").unlink()  # a folder from before the stamp
    assert "eval-base" not in done()


def test_a_changed_setting_is_evaluated_again(tmp_path):
    """A suite's folder records the prompting and decoding settings it was made with; when the study changes one,
    that suite runs again for every model (a study compares models evaluated the same way)."""
    from tradeoff.evaluation import eval_dir, evaluation_done, suite_settings
    from tradeoff.probes import ProbeSettings

    study = small_study(tmp_path, probes={"gsm8k": ProbeSettings(num_fewshot=5), "mmlu": ProbeSettings()})
    for suite in study.suites():
        eval_dir(study, "base", suite).mkdir(parents=True)
        (eval_dir(study, "base", suite) / "evaluated_model.txt").write_text("base\n")
    assert all(evaluation_done(study, "base", suite) for suite in study.suites())  # folders from before settings
    for suite in study.suites():
        (eval_dir(study, "base", suite) / "settings.json").write_text(json.dumps(suite_settings(study, suite)))
    assert all(evaluation_done(study, "base", suite) for suite in study.suites())
    study.probes["gsm8k"].batch_size = "64"  # speed only
    study.probes["mmlu"].debiased = True  # the report's reading only
    assert evaluation_done(study, "base", "gsm8k") and evaluation_done(study, "base", "mmlu")
    study.probes["gsm8k"].gen_kwargs = {"cache_implementation": "static"}
    assert not evaluation_done(study, "base", "gsm8k") and evaluation_done(study, "base", "mmlu")
    study.probes["gsm8k"].gen_kwargs = None
    study.eval.grouped_decode = True  # reaches the generation probes, not the log-likelihood ones
    assert not evaluation_done(study, "base", "gsm8k") and evaluation_done(study, "base", "mmlu")
    study.eval.grouped_decode = False
    study.eval.max_gen_toks = 512
    assert not evaluation_done(study, "base", "spider_exec") and evaluation_done(study, "base", "gsm8k")


def test_a_stopped_evaluation_keeps_the_suites_that_completed(tmp_path, monkeypatch):
    """One process evaluates a model on every suite; when it is stopped (time limit, crash) after some suites,
    those stay done and only the rest run next time."""
    from tradeoff import evaluation
    from tradeoff.lm_eval_runs import COMPLETE
    from tradeoff.probes import ProbeSettings
    from tradeoff.step_commands import TimeLimitReached
    from tradeoff.sweep import plan

    study = small_study(tmp_path, probes={"gsm8k": ProbeSettings()})
    assert study.suites() == ["spider_exec", "gsm8k"]
    calls = []

    def stopped_with_one_suite_complete(study, step, command, env):
        calls.append(command)
        raw = evaluation.eval_dir(study, "base", "spider_exec").with_name("spider_exec.partial") / "raw" / "m"
        raw.mkdir(parents=True)
        (raw / "results_2026.json").write_text("{}")
        (raw / "samples_spider_exec_2026.jsonl").write_text('{"doc_id": 0}\n')
        (raw.parent / COMPLETE).write_text("lm_eval ...\n")
        gsm8k_raw = evaluation.eval_dir(study, "base", "gsm8k").with_name("gsm8k.partial") / "raw" / "m"
        gsm8k_raw.mkdir(parents=True)
        (gsm8k_raw / "results_2026.json").write_text("{}")  # written, but the samples were not: no COMPLETE
        raise TimeLimitReached("stopped")

    monkeypatch.setattr(evaluation, "run_logged", stopped_with_one_suite_complete)
    [step] = [s for s in plan(study) if s.name == "eval-base"]
    with pytest.raises(TimeLimitReached):
        step.run({})
    assert len(calls[0]) == 3 + 2  # python -m tradeoff.lm_eval_runs, then one lm_eval command line per suite
    # spider_exec runs last: what it switches on for the process (its grouped decode) must not reach the probes
    assert "--tasks gsm8k" in calls[0][3] and "--tasks spider_exec" in calls[0][4]
    assert (evaluation.eval_dir(study, "base", "spider_exec") / "evaluated_model.txt").read_text() == "base\n"
    kept_settings = evaluation.eval_dir(study, "base", "spider_exec") / "settings.json"
    assert json.loads(kept_settings.read_text()) == evaluation.suite_settings(study, "spider_exec")
    assert not evaluation.eval_dir(study, "base", "gsm8k").exists()
    assert not step.done()
    calls.clear()
    monkeypatch.setattr(evaluation, "run_logged", lambda study, step, command, env: calls.append(command))
    step.run({})
    assert len(calls[0]) == 3 + 1 and "--tasks gsm8k" in calls[0][3]  # only what is left
    assert not evaluation.eval_dir(study, "base", "gsm8k").with_name("gsm8k.partial").exists()  # the stale one went


def test_a_model_evaluated_elsewhere_is_not_trained_again_when_its_record_names_the_weights(tmp_path):
    from tradeoff.evaluation import eval_dir, suite_settings
    from tradeoff.sweep import _record_training, adapter_dir, plan

    study = small_study(tmp_path)
    adapter, tag = adapter_dir(study, 1e-3, 42), "lr-0.001-seed-42"
    adapter.mkdir(parents=True)
    (adapter / "training_meta.json").write_text('{"steps": 3}')
    (adapter / "adapter_model.safetensors").write_bytes(b"weights")
    _record_training(study, 1e-3, 42)  # as the sweep does when the training ends
    for suite in study.suites():  # every suite evaluated on those weights, with the study's settings
        eval_dir(study, tag, suite).mkdir(parents=True)
        (eval_dir(study, tag, suite) / "evaluated_model.txt").write_text(hashlib.sha256(b"weights").hexdigest())
        (eval_dir(study, tag, suite) / "settings.json").write_text(json.dumps(suite_settings(study, suite)))

    def done():
        return {step.name for step in plan(study) if step.done()}

    shutil.rmtree(adapter)  # the machine that trained it is gone; its results came back
    assert {f"train-{tag}", f"eval-{tag}"} <= done()
    record = study.results / "training" / f"{tag}.json"
    assert json.loads(record.read_text()) == {"steps": 3, "adapter_sha256": hashlib.sha256(b"weights").hexdigest()}
    record.write_text('{"steps": 3}')  # a record from before records named their weights: nothing ties them
    assert not {f"train-{tag}", f"eval-{tag}"} & done()
    record.write_text(json.dumps({"adapter_sha256": hashlib.sha256(b"weights").hexdigest()}))
    study.eval.max_gen_toks += 1  # a changed setting: Spider must be evaluated again, which needs the adapter
    assert not {f"train-{tag}", f"eval-{tag}"} & done()


def test_each_adapter_is_evaluated_right_after_its_training(tmp_path):
    from tradeoff.sweep import plan

    study = small_study(tmp_path, learning_rates=[1e-3, 1e-2], seeds=[1, 2])
    names = [step.name for step in plan(study)]
    tags = ["lr-0.001-seed-1", "lr-0.001-seed-2", "lr-0.01-seed-1", "lr-0.01-seed-2"]
    assert names == ["eval-base"] + [f"{kind}-{tag}" for tag in tags for kind in ("train", "eval")]


def test_the_report_reads_steps_and_loss_only_from_the_record_of_the_evaluated_adapter(tmp_path):
    from tradeoff.report_table import training_figures

    study = small_study(tmp_path)
    evaluated_on_spider(study, 1e-3, 42, [1.0, 0.0])
    tag, results = "lr-0.001-seed-42", study.results
    assert training_figures(results, tag) == {"training_record": "missing"}  # lost with the machine, say
    meta = {"steps": 7, "epochs": 1.0, "loss_history": [{"loss": 2.0}, {"loss": 0.5}]}
    record = results / "training" / f"{tag}.json"
    record.parent.mkdir(parents=True)
    record.write_text(json.dumps(meta))  # from before records named their weights
    assert training_figures(results, tag)["training_record"] == "unverified"
    evaluated = hashlib.sha256(b"weights 0.001 42").hexdigest()
    record.write_text(json.dumps({**meta, "adapter_sha256": evaluated}))
    assert training_figures(results, tag) == {
        "training_record": "of the evaluated adapter",
        "train_steps": 7,
        "train_epochs": 1.0,
        "final_train_loss": 0.5,
        "diverged": "",  # the loss fell from 2.0 to 0.5
    }
    record.write_text(json.dumps({**meta, "adapter_sha256": "0" * 64}))  # a retrained adapter's
    assert training_figures(results, tag) == {"training_record": "of another adapter"}


def test_a_training_over_two_gpus_is_launched_with_two_processes_on_both(tmp_path, monkeypatch):
    from tradeoff import sweep
    from tradeoff.study import Study

    study = Study(
        name="s",
        base_model="m",
        training_config="c",
        learning_rates=[1e-3],
        spider_dir="d",
        gpus=[0, 1],
        training_gpus=2,
        runs_dir=str(tmp_path / "runs"),
        results_dir=str(tmp_path / "r"),
        launcher=["accelerate", "launch", "--config_file", "harness_configs/accelerate/multi_gpu.yaml"],
    )
    launched = {}
    monkeypatch.setattr(sweep, "run_logged", lambda study, step, command, env: launched.update({step: command}))
    [training] = [step for step in sweep.plan(study) if step.training]
    assert training.gpus == 2
    training.run({"CUDA_VISIBLE_DEVICES": "0,1"})
    command = launched["train-lr-0.001-seed-42"]
    assert command[command.index("--num_processes") + 1] == "2"
    assert "harness_configs/accelerate/multi_gpu.yaml" in command
