"""A model's evaluation in one process, in two at once or in one per suite (eval.processes): which suites go
where, that the processes run together, and that each completed suite is kept when another process fails (no
models)."""

import threading
import time

import pytest

from tests.minimal_study import minimal_study
from tradeoff import evaluation
from tradeoff.lm_eval_runs import COMPLETE
from tradeoff.step_commands import SweepError

SUITES = ["spider_exec", "mmlu", "mmlu_continuation", "gsm8k", "humaneval"]


def study(tmp_path, *overrides):
    return minimal_study(tmp_path, "probes: {mmlu: {}, mmlu_continuation: {}, gsm8k: {}, humaneval: {}}\n", overrides)


def test_two_processes_split_multiple_choice_from_generation(tmp_path):
    assert evaluation.process_groups(study(tmp_path), SUITES) == {"": SUITES}
    two = study(tmp_path, "eval.processes=2")
    assert evaluation.process_groups(two, SUITES) == {
        "-multiple-choice": ["mmlu", "mmlu_continuation"],
        "-generation": ["spider_exec", "gsm8k", "humaneval"],
    }
    assert evaluation.process_groups(two, ["spider_exec"]) == {"-generation": ["spider_exec"]}  # no empty process
    apart = study(tmp_path, "eval.processes=per_suite")
    assert evaluation.process_groups(apart, SUITES) == {f"-{suite}": [suite] for suite in SUITES}


def test_processes_must_be_one_two_or_per_suite(tmp_path):
    from tradeoff.study import StudyConfigError

    for wrong in ("3", "each"):
        with pytest.raises(StudyConfigError, match="eval.processes must be 1 .* or per_suite, not"):
            study(tmp_path, f"eval.processes={wrong}")


class FakeProcesses:
    """Stands in for run_logged: records each process's suites and interval, completes its suites' output
    (lm_eval_runs' COMPLETE marker), and fails the process that runs `fail`."""

    def __init__(self, fail=None):
        self.runs, self.commands, self.fail, self.lock = {}, {}, fail, threading.Lock()

    def __call__(self, study, step, command, env):
        start = time.monotonic()
        time.sleep(0.3)
        outputs = [arg.split("--output_path ")[1].split()[0] for arg in command if "--output_path" in arg]
        with self.lock:
            self.runs[step] = (start, time.monotonic())
            self.commands[step] = command
        if self.fail and any(f"/{self.fail}.partial/" in path for path in outputs):
            raise SweepError(f"step {step} failed")
        for path in outputs:
            (evaluation.Path(path)).mkdir(parents=True, exist_ok=True)
            (evaluation.Path(path) / COMPLETE).write_text("")


def test_both_processes_run_at_once_and_a_failure_keeps_the_other_ones_suites(tmp_path, monkeypatch):
    two = study(tmp_path, "eval.processes=2")
    kept = []
    monkeypatch.setattr(evaluation, "_keep", lambda study, tag, suite, *rest: kept.append(suite))
    fake = FakeProcesses(fail="gsm8k")
    monkeypatch.setattr(evaluation, "run_logged", fake)
    with pytest.raises(SweepError, match="eval-base-generation failed"):
        evaluation.evaluate_model(two, "base", SUITES, {})
    (a0, a1), (b0, b1) = fake.runs["eval-base-multiple-choice"], fake.runs["eval-base-generation"]
    assert a0 < b1 and b0 < a1  # together, not one after the other
    assert sorted(kept) == ["mmlu", "mmlu_continuation"]

    fake = FakeProcesses()
    monkeypatch.setattr(evaluation, "run_logged", fake)
    kept.clear()
    evaluation.evaluate_model(study(tmp_path), "base", SUITES, {})
    assert list(fake.runs) == ["eval-base"] and sorted(kept) == sorted(SUITES)


def test_one_process_per_suite_runs_them_all_at_once_and_keeps_the_others_when_one_fails(tmp_path, monkeypatch):
    kept = []
    monkeypatch.setattr(evaluation, "_keep", lambda study, tag, suite, *rest: kept.append(suite))
    fake = FakeProcesses(fail="humaneval")
    monkeypatch.setattr(evaluation, "run_logged", fake)
    with pytest.raises(SweepError, match="eval-base-humaneval failed"):
        evaluation.evaluate_model(study(tmp_path, "eval.processes=per_suite"), "base", SUITES, {})
    assert sorted(fake.runs) == sorted(f"eval-base-{suite}" for suite in SUITES)
    assert {step: tasks_of(command) for step, command in fake.commands.items()} == {
        f"eval-base-{suite}": [suite] for suite in SUITES
    }
    starts = [start for start, _ in fake.runs.values()]
    assert max(starts) < min(end for _, end in fake.runs.values())  # all five at once
    assert sorted(kept) == sorted(set(SUITES) - {"humaneval"})


def tasks_of(command: list[str]) -> list[str]:
    return [arg.split("--tasks ")[1].split()[0] for arg in command if "--tasks" in arg]


def test_the_settings_benchmark_starts_the_processes_the_sweep_would(tmp_path, monkeypatch):
    from benchmarks.bench_eval_settings import evaluation_commands

    two_study = study(tmp_path, "eval.processes=2")
    monkeypatch.setattr(evaluation, "_keep", lambda *args: None)
    sweep = FakeProcesses()
    monkeypatch.setattr(evaluation, "run_logged", sweep)
    evaluation.evaluate_model(two_study, "base", SUITES, {})
    bench = evaluation_commands(two_study, "base", SUITES, tmp_path / "out", "variant")
    assert [tasks_of(command) for command in bench.values()] == [tasks_of(c) for c in sweep.commands.values()]

    one = evaluation_commands(study(tmp_path), "base", SUITES, tmp_path / "out", str(tmp_path / "baseline"))
    assert list(one) == [tmp_path / "baseline.log"]
    two = evaluation_commands(study(tmp_path, "eval.processes=2"), "base", SUITES, tmp_path / "out", "variant")
    assert list(two) == [evaluation.Path("variant-multiple-choice.log"), evaluation.Path("variant-generation.log")]
    assert "--tasks mmlu " in " ".join(two[evaluation.Path("variant-multiple-choice.log")])


def test_timed_runs_starts_every_command_at_once(tmp_path):
    import sys

    from benchmarks.launchers import timed_runs

    stamp = "import time; print(time.time()); time.sleep(0.5); print(time.time())"
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    timed_runs({log: [sys.executable, "-c", stamp] for log in logs})
    (a0, a1), (b0, b1) = ([float(x) for x in log.read_text().split()] for log in logs)
    assert a0 < b1 and b0 < a1
    with pytest.raises(SystemExit, match="failed"):
        timed_runs(
            {tmp_path / "c.log": [sys.executable, "-c", "raise SystemExit(3)"], logs[0]: [sys.executable, "-V"]}
        )
