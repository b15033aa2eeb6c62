"""Run a sweep's steps, several at a time where the study allows it.

A small model leaves a big GPU mostly idle, so evaluations can run beside the training of the next learning
rate; on a machine with several GPUs each running step can be pinned to one. Steps start in plan order as soon
as what they need has finished; trainings, and optionally evaluations, have their own limits because two of them
on one GPU may not fit in its memory. With `jobs: 1` this is the plain sequential sweep.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass


@dataclass
class Step:
    name: str
    done: Callable[[], bool]
    run: Callable[[dict[str, str]], None]  # gets the environment overrides of its slot (GPU pinning)
    needs: tuple[str, ...] = ()
    training: bool = False
    evaluation: bool = False
    gpus: int = 1  # GPUs it takes when steps are pinned (a training launched over several)


class StepFailed(RuntimeError):
    """A step raised; the steps still running were let finish (their results are complete and kept)."""


class DeadlinePassed(StepFailed):
    """The deadline came with steps not yet started."""


def slot_gpus(step: Step, slot: int, gpus: list[int] | None, held: set[int]) -> list[int] | None:
    """The GPUs a step would run on now, or None if they are taken. A one-GPU step takes its slot's GPU in
    turn (several slots may share one); a step of several GPUs takes that many that no running step holds."""
    if not gpus:
        return []
    if step.gpus == 1:
        gpu = gpus[slot % len(gpus)]
        return None if gpu in held else [gpu]
    free = [g for g in gpus if g not in held]
    return free[: step.gpus] if len(free) >= step.gpus else None


def deadline_passed(deadline: float | None) -> bool:
    """Whether a deadline (a time.time() value; None: none) has come."""
    return deadline is not None and time.time() >= deadline


def gpu_environment(pinned: list[int]) -> dict[str, str]:
    return {"CUDA_VISIBLE_DEVICES": ",".join(map(str, pinned))} if pinned else {}


def run_steps(
    steps: list[Step],
    jobs: int = 1,
    training_jobs: int = 1,
    gpus: list[int] | None = None,
    on_start: Callable[[Step, dict], None] = lambda step, env: None,
    on_finish: Callable[[Step], None] = lambda step: None,
    deadline: Callable[[], float | None] = lambda: None,
    evaluation_jobs: int | None = None,
) -> list[str]:
    """Run every unfinished step; returns the names of the steps it ran, in the order they finished.

    A failed step does not stop the others: the steps that need it are left out, the rest run (one evaluation
    that runs out of memory must not leave the other GPUs idle for the rest of a long sweep), and at the end the
    first error is raised again, after naming every failed and left-out step. At most `evaluation_jobs`
    evaluation steps run at once (None: as many as `jobs`). After the deadline (a time.time()
    value, asked for anew at each start, since a signal may bring it forward) no new step starts (stopping the
    running ones is theirs to do).
    """
    finished = {step.name for step in steps if step.done()}
    pending = [step for step in steps if step.name not in finished]
    running: dict[Future, tuple[Step, int, list[int]]] = {}
    free_slots = list(range(jobs))
    ran: list[str] = []
    failures: list[tuple[str, BaseException]] = []
    left_out: list[str] = []  # steps that need a failed one, directly or not

    def startable(step: Step) -> bool:
        trainings = sum(s.training for s, _, _ in running.values())
        evaluations = sum(s.evaluation for s, _, _ in running.values())
        return (
            all(n in finished for n in step.needs)
            and not (step.training and trainings >= training_jobs)
            and not (step.evaluation and evaluation_jobs is not None and evaluations >= evaluation_jobs)
        )

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        while running or pending:
            late = deadline_passed(deadline())
            for step in list(pending) if not late else []:
                if any(n in left_out or n in (f for f, _ in failures) for n in step.needs):
                    pending.remove(step)
                    left_out.append(step.name)
                    continue
                if not (free_slots and startable(step)):
                    continue
                held = {g for _, _, pinned in running.values() if len(pinned) > 1 for g in pinned}
                if step.gpus > 1:  # it needs its GPUs to itself
                    held |= {g for _, _, pinned in running.values() for g in pinned}
                pinned = slot_gpus(step, free_slots[0], gpus, held)
                if pinned is None:
                    continue
                slot = free_slots.pop(0)
                env = gpu_environment(pinned)
                pending.remove(step)
                on_start(step, env)
                running[pool.submit(step.run, env)] = (step, slot, pinned)
            if not running:
                break  # nothing can start: needs that no step provides (or the deadline passed)
            for future in wait(running, return_when=FIRST_COMPLETED).done:
                step, slot, _ = running.pop(future)
                free_slots = sorted(free_slots + [slot])
                if future.exception() is not None:
                    failures.append((step.name, future.exception()))
                    continue
                finished.add(step.name)
                ran.append(step.name)
                on_finish(step)
    if failures:
        if len(failures) > 1 or left_out:
            names = ", ".join(name for name, _ in failures)
            skipped = f"; not run, as they need one of them: {', '.join(left_out)}" if left_out else ""
            print(f"{len(failures)} step(s) failed: {names}{skipped}", file=sys.stderr, flush=True)
        raise failures[0][1]
    if pending and deadline_passed(deadline()):
        raise DeadlinePassed(
            f"time limit reached before {len(pending)} step(s) started: {', '.join(s.name for s in pending)}"
        )
    if pending:
        raise StepFailed(f"steps never became ready: {', '.join(s.name for s in pending)}")
    return ran
