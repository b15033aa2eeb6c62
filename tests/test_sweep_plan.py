"""What the sweep plans and what it does not do again (no models run): seeds around the best rate, an adapter
retrained or evaluated elsewhere, a changed setting, a stopped evaluation's completed suites, the training
record the report reads, a training over two GPUs."""

import gzip
import hashlib
import json
import shutil

import pytest
import yaml


def test_an_adapter_is_not_evaluated_on_another_base(tmp_path):
    from tradeoff.evaluation import SweepError, check_adapter_base

    (tmp_path / "training_meta.json").write_text(json.dumps({"base_model": "models/a", "gguf_file": None}))
    check_adapter_base(tmp_path, "models/a", None)
    with pytest.raises(SweepError, match="adapter was trained on models/a .no GGUF., not on models/b"):
        check_adapter_base(tmp_path, "models/b", None)
    with pytest.raises(SweepError, match="not on models/a .x.gguf."):
        check_adapter_base(tmp_path, "models/a", "x.gguf")


def _small_study(tmp_path, **settings):
    """A one-rate study whose files live under tmp_path (nothing in it is run)."""
    from tradeoff.study import Study

    defaults = dict(name="s", base_model="m", training_config="c", learning_rates=[1e-3], spider_dir="d")
    return Study(**{**defaults, **settings}, results_dir=str(tmp_path / "results"), runs_dir=str(tmp_path / "runs"))


def _evaluated_on_spider(study, lr, seed, ex: list[float]):
    """What the sweep leaves for an adapter evaluated on Spider: its weights, their stamp and the samples."""
    from tradeoff.evaluation import eval_dir
    from tradeoff.sweep import adapter_dir

    adapter = adapter_dir(study, lr, seed)
    adapter.mkdir(parents=True)
    (adapter / "training_meta.json").write_text("{}")
    (adapter / "adapter_model.safetensors").write_bytes(f"weights {lr} {seed}".encode())
    folder = eval_dir(study, f"lr-{lr:g}-seed-{seed}", "spider_exec")
    folder.mkdir(parents=True)
    (folder / "evaluated_model.txt").write_text(hashlib.sha256(f"weights {lr} {seed}".encode()).hexdigest() + "\n")
    rows = [{"doc": {"index": i, "hardness": "easy"}, "exec_match": x} for i, x in enumerate(ex)]
    with gzip.open(folder / "samples_spider_exec.jsonl.gz", "wt") as f:
        f.writelines(json.dumps(row) + "\n" for row in rows)


def test_seeds_around_best_go_to_the_best_rate_and_its_neighbours(tmp_path):
    from tradeoff.seeds_around_best import seeds_around_best

    study = _small_study(tmp_path, learning_rates=[1e-4, 5e-4, 1e-3, 2e-3], seeds_around_best=[43, 44])
    for lr, ex in ((1e-4, [1, 0, 0, 0]), (5e-4, [1, 1, 1, 0]), (1e-3, [1, 1, 0, 0])):
        _evaluated_on_spider(study, lr, 42, ex)
    with pytest.raises(ValueError, match="missing: 0.002"):
        seeds_around_best(study)
    _evaluated_on_spider(study, 2e-3, 42, [0, 0, 0, 0])
    best, around = seeds_around_best(study)
    assert best == 5e-4
    assert around == {1e-4: [42, 43, 44], 5e-4: [42, 43, 44], 1e-3: [42, 43, 44]}  # the grid's seed is kept
    edge = _small_study(tmp_path / "edge", learning_rates=[1e-4, 2e-3], seeds_around_best=[42, 43])
    _evaluated_on_spider(edge, 1e-4, 42, [0])
    _evaluated_on_spider(edge, 2e-3, 42, [1])  # the best at the end of the grid has one neighbour
    assert seeds_around_best(edge) == (2e-3, {1e-4: [42, 43], 2e-3: [42, 43]})


def test_the_sweep_adds_the_seeds_once_the_grid_is_evaluated(tmp_path, monkeypatch):
    from tradeoff import sweep

    (tmp_path / "c").write_text("{}")
    study = _small_study(
        tmp_path, learning_rates=[1e-4, 1e-3], seeds_around_best=[42, 7], training_config=str(tmp_path / "c")
    )
    planned = []

    def run_steps(steps, *args, **kwargs):  # the grid is evaluated by the first plan
        planned.append([step.name for step in steps])
        if len(planned) == 1:
            _evaluated_on_spider(study, 1e-4, 42, [0, 1])
            _evaluated_on_spider(study, 1e-3, 42, [1, 1])
        return [step.name for step in steps]

    monkeypatch.setattr(sweep, "run_steps", run_steps)
    sweep.run_sweep(study)
    assert "train-lr-0.001-seed-7" not in planned[0]
    assert {"train-lr-0.001-seed-7", "train-lr-0.0001-seed-7", "eval-lr-0.001-seed-7"} <= set(planned[1])
    record = (study.results / "study.yaml").read_text()
    assert "best Spider EX at lr 0.001" in record
    assert yaml.safe_load(record)["seeds_by_lr"] == {1e-4: [7, 42], 1e-3: [7, 42]}  # the report plans from it


def test_a_retrained_adapter_is_evaluated_again(tmp_path):
    from tradeoff.evaluation import eval_dir
    from tradeoff.sweep import adapter_dir, plan

    study = _small_study(tmp_path)
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

    study = _small_study(tmp_path, probes={"gsm8k": ProbeSettings(num_fewshot=5), "mmlu": ProbeSettings()})
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

    study = _small_study(tmp_path, probes={"gsm8k": ProbeSettings()})
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

    study = _small_study(tmp_path)
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

    study = _small_study(tmp_path, learning_rates=[1e-3, 1e-2], seeds=[1, 2])
    names = [step.name for step in plan(study)]
    tags = ["lr-0.001-seed-1", "lr-0.001-seed-2", "lr-0.01-seed-1", "lr-0.01-seed-2"]
    assert names == ["eval-base"] + [f"{kind}-{tag}" for tag in tags for kind in ("train", "eval")]


def test_the_report_reads_steps_and_loss_only_from_the_record_of_the_evaluated_adapter(tmp_path):
    from tradeoff.report_table import training_figures

    study = _small_study(tmp_path)
    _evaluated_on_spider(study, 1e-3, 42, [1.0, 0.0])
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


def _rate(lr, seeds, ex_p, humaneval, humaneval_p):
    """A report row of one learning rate over its seeds: its EX gain, and a HumanEval change."""
    return {
        "model": f"lr-{lr:g}",
        "learning_rate": lr,
        "seeds": seeds,
        "spider_ex_delta": 0.1,
        "spider_ex_mcnemar_p": ex_p,
        "humaneval_pass1_delta": humaneval,
        "humaneval_pass1_mcnemar_p": humaneval_p,
    }


def test_the_rule_s_choice_gets_the_seeds_until_it_has_them_all():
    from tradeoff.probes import PROBES
    from tradeoff.seeds_around_best import choice_to_seed

    humaneval = PROBES["humaneval"]
    base = {"model": "base", "learning_rate": None, "humaneval_can_show_loss": True}
    gentle = _rate(1e-4, [42], 0.001, -0.05, 0.09)  # one seed, no significant loss: the rule's choice
    seeded = _rate(5e-4, [42, 43, 44], 0.001, -0.09, 0.003)  # the best EX, a loss over its seeds
    assert choice_to_seed([base, gentle, seeded], [humaneval], [42, 43, 44]) == 1e-4
    gentle_seeded = gentle | {"seeds": [42, 43, 44], "humaneval_pass1_seed_mean_p": 0.2}
    assert choice_to_seed([base, gentle_seeded, seeded], [humaneval], [42, 43, 44]) is None  # all in
    assert choice_to_seed([base, gentle, seeded], [humaneval], [42]) is None
    assert choice_to_seed([base, seeded], [humaneval], [42, 43, 44]) is None  # every gain loses: no choice


def test_the_committed_qwen_study_seeds_its_rule_s_choice_next():
    """On the committed study's report rows (tests/test_committed_results.py keeps them current)."""
    from tests.conftest import ROOT
    from tradeoff.probes import study_probes
    from tradeoff.report_table import read_study
    from tradeoff.seeds_around_best import choice_to_seed

    results = ROOT / "results" / "qwen2.5-coder-0.5b-spider"
    by_lr = json.loads((results / "summary.json").read_text())["learning_rates"]
    study = read_study(results)
    assert choice_to_seed(by_lr, study_probes(study), study["seeds_around_best"]) == 1e-4


def _sweep_with_choices(tmp_path, monkeypatch, choose):
    """Run the sweep of a three-rate study (no models run; the grid is evaluated by the first plan) with the
    decision rule's choices given by `choose`; returns the study and the names of each plan's steps."""
    from tradeoff import sweep

    (tmp_path / "c").write_text("{}")
    study = _small_study(
        tmp_path, learning_rates=[2e-5, 1e-4, 1e-3], seeds_around_best=[42, 7], training_config=str(tmp_path / "c")
    )
    planned = []

    def run_steps(steps, *args, **kwargs):
        planned.append([step.name for step in steps])
        if len(planned) == 1:
            for lr, ex in ((2e-5, [0, 0]), (1e-4, [0, 1]), (1e-3, [1, 1])):
                _evaluated_on_spider(study, lr, 42, ex)
        return [step.name for step in steps]

    monkeypatch.setattr(sweep, "run_steps", run_steps)
    monkeypatch.setattr(sweep, "seed_the_choice", choose)
    sweep.run_sweep(study)
    return study, planned


def test_the_sweep_seeds_the_rule_s_choice_and_reads_the_rule_again(tmp_path, monkeypatch):
    choices = iter([2e-5, 1e-4])  # the rule moves once the first choice's seeds are in, then settles
    study, planned = _sweep_with_choices(tmp_path, monkeypatch, lambda s: next(choices, None))
    assert len(planned) == 4  # the grid, the seeds around the best, the first choice, then the next
    assert "train-lr-2e-05-seed-7" not in planned[1] and "train-lr-2e-05-seed-7" in planned[2]
    record = (study.results / "study.yaml").read_text()
    assert "the decision rule's choice, lr 2e-05, gets them too" in record
    assert yaml.safe_load(record)["seeds_by_lr"][2e-5] == [7, 42]
    never_settles = tmp_path / "never"
    never_settles.mkdir()
    study, planned = _sweep_with_choices(never_settles, monkeypatch, lambda s: 1e-3)
    assert len(planned) == 2 + len(study.learning_rates)  # bounded: once per rate
