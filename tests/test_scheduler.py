"""The sweep's step scheduler: order, needs, the training limit, GPU pinning and failures (no models)."""

import threading
import time

import pytest

from tradeoff.scheduler import Step, StepFailed, run_steps


class Recorder:
    """Steps that sleep a little and record when they ran and with which environment."""

    def __init__(self, fail: str | None = None):
        self.intervals: dict[str, tuple[float, float]] = {}
        self.envs: dict[str, dict] = {}
        self.fail = fail
        self.lock = threading.Lock()

    def step(self, name, needs=(), training=False, seconds=0.05, done=False):
        def run(env):
            start = time.monotonic()
            time.sleep(seconds)
            with self.lock:
                self.intervals[name] = (start, time.monotonic())
                self.envs[name] = env
            if name == self.fail:
                raise RuntimeError(f"{name} broke")

        return Step(name, lambda: done, run, tuple(needs), training, evaluation=name.startswith("eval-"))

    def overlap(self, a, b):
        (a0, a1), (b0, b1) = self.intervals[a], self.intervals[b]
        return a0 < b1 and b0 < a1


def study_steps(rec, seconds=0.05):
    """The sweep's shape: a preparation, two trainings, evaluations of the base and of each adapter."""
    return [
        rec.step("prepare", seconds=seconds),
        rec.step("train-a", ["prepare"], training=True, seconds=3 * seconds),
        rec.step("train-b", ["prepare"], training=True, seconds=3 * seconds),
        rec.step("eval-base", ["prepare"], seconds=seconds),
        rec.step("eval-a", ["prepare", "train-a"], seconds=seconds),
        rec.step("eval-b", ["prepare", "train-b"], seconds=seconds),
    ]


def test_one_job_runs_the_plan_in_order_one_at_a_time():
    rec = Recorder()
    ran = run_steps(study_steps(rec), jobs=1)
    assert ran == ["prepare", "train-a", "train-b", "eval-base", "eval-a", "eval-b"]
    order = sorted(rec.intervals, key=lambda n: rec.intervals[n][0])
    assert order == ran
    assert not any(rec.overlap(a, b) for a in ran for b in ran if a < b)


def test_two_jobs_evaluate_beside_training_but_never_train_twice_at_once():
    rec = Recorder()
    ran = run_steps(study_steps(rec), jobs=2, training_jobs=1)
    assert sorted(ran) == sorted(rec.intervals) and len(ran) == 6
    assert not rec.overlap("train-a", "train-b")
    assert rec.overlap("train-a", "eval-base")  # the point of jobs: 2
    for step, needs in (("eval-a", "train-a"), ("eval-b", "train-b"), ("train-a", "prepare")):
        assert rec.intervals[needs][1] <= rec.intervals[step][0]
    assert all(env == {} for env in rec.envs.values())


def test_one_gpu_trains_beside_an_evaluation_but_never_runs_two_evaluations_at_once():
    evaluations = ["eval-base", "eval-a", "eval-b"]

    def run(**limit):
        rec = Recorder()
        steps = [rec.step("prepare")]
        for name in ("a", "b"):
            steps.append(rec.step(f"train-{name}", ["prepare"], training=True, seconds=0.05))
        steps.append(rec.step("eval-base", ["prepare"], seconds=0.3))
        steps += [rec.step(f"eval-{name}", ["prepare", f"train-{name}"], seconds=0.3) for name in ("a", "b")]
        assert len(run_steps(steps, jobs=3, training_jobs=1, gpus=[0], **limit)) == 6
        return rec

    rec = run(evaluation_jobs=1)
    assert not any(rec.overlap(a, b) for a in evaluations for b in evaluations if a < b)
    assert rec.overlap("train-a", "eval-base") and rec.overlap("train-b", "eval-base")  # trainings still beside
    rec = run()  # without the limit the same plan runs evaluations together
    assert any(rec.overlap(a, b) for a in evaluations for b in evaluations if a < b)


def test_gpus_pin_each_running_step_to_its_slot():
    rec = Recorder()
    run_steps(study_steps(rec), jobs=2, training_jobs=2, gpus=[4, 7])
    assert rec.overlap("train-a", "train-b")
    assert {rec.envs["train-a"]["CUDA_VISIBLE_DEVICES"], rec.envs["train-b"]["CUDA_VISIBLE_DEVICES"]} == {"4", "7"}
    assert all(env["CUDA_VISIBLE_DEVICES"] in ("4", "7") for env in rec.envs.values())


def test_finished_steps_are_skipped():
    rec = Recorder()
    steps = study_steps(rec)
    steps[1] = rec.step("train-a", ["prepare"], training=True, done=True)
    ran = run_steps(steps, jobs=2)
    assert "train-a" not in ran and "eval-a" in ran


def test_a_failure_leaves_out_what_needs_it_runs_the_rest_and_raises(capsys):
    rec = Recorder(fail="train-a")
    with pytest.raises(RuntimeError, match="train-a broke"):
        run_steps(study_steps(rec, seconds=0.1), jobs=2)
    assert "eval-a" not in rec.intervals  # it needs the failed training
    assert {"train-b", "eval-base", "eval-b"} <= set(rec.intervals)  # independent of it: they still ran
    assert "1 step(s) failed: train-a; not run, as they need one of them: eval-a" in capsys.readouterr().err


def test_a_failed_evaluation_does_not_stop_the_next_ones():
    rec = Recorder(fail="eval-base")
    with pytest.raises(RuntimeError, match="eval-base broke"):
        run_steps(study_steps(rec, seconds=0.1), jobs=2)
    assert {"train-a", "train-b", "eval-a", "eval-b"} <= set(rec.intervals)


def test_needs_that_nothing_provides_are_reported():
    rec = Recorder()
    with pytest.raises(StepFailed, match="never became ready: eval-x"):
        run_steps([rec.step("a"), rec.step("eval-x", ["missing"])], jobs=2)


def test_no_step_starts_after_the_deadline():
    from tradeoff.scheduler import DeadlinePassed

    stop = time.time() + 0.1
    rec = Recorder()
    with pytest.raises(DeadlinePassed, match="time limit reached before 5 step"):
        run_steps(study_steps(rec, seconds=0.2), jobs=1, deadline=lambda: stop)
    assert list(rec.intervals) == ["prepare"]  # it had started before the deadline and was let finish


def test_a_training_over_two_gpus_has_them_to_itself_and_evaluations_share_them_out_after():
    rec = Recorder()
    steps = study_steps(rec)
    for step in steps:
        if step.training:
            step.gpus = 2
    run_steps(steps, jobs=2, training_jobs=1, gpus=[4, 7])
    assert rec.envs["train-a"]["CUDA_VISIBLE_DEVICES"] == rec.envs["train-b"]["CUDA_VISIBLE_DEVICES"] == "4,7"
    for training in ("train-a", "train-b"):  # nothing else ran on the cards meanwhile
        assert not any(rec.overlap(training, other) for other in rec.intervals if other != training)
    assert {rec.envs[name]["CUDA_VISIBLE_DEVICES"] for name in ("eval-a", "eval-b", "eval-base")} <= {"4", "7"}
    assert rec.overlap("eval-a", "eval-base") or rec.overlap("eval-b", "eval-base") or rec.overlap("eval-a", "eval-b")
