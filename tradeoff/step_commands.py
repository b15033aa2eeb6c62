"""Running one step of a sweep: its command as a subprocess, its output in
results/<study>/logs/<step>.log, and one line of results/<study>/commands.jsonl (command, environment, exit
status, start, wall time); stopped when the study's deadline comes.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import time

from tradeoff.scheduler import deadline_passed
from tradeoff.study import Study


class SweepError(RuntimeError):
    """A step failed; the message names the step and its log."""


class TimeLimitReached(SweepError):
    """The sweep's --time-limit came: running steps were stopped, the next run resumes."""


_COMMANDS_LOG_LOCK = threading.Lock()  # steps may finish at once when the study runs several in parallel


def run_logged(study: Study, step: str, command: list[str], env: dict[str, str]) -> None:
    logs = study.results / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{step}.log"
    started = time.time()
    with log_path.open("w") as log:
        log.write("".join(f"{k}={v} " for k, v in env.items()) + f"$ {shlex.join(command)}\n")
        log.flush()
        # In the sweep's own process group, so that Ctrl-C or a kill of the sweep's group stops the step too.
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **env})
        rc = _wait(proc, study)
    entry = {
        "step": step,
        "command": shlex.join(command),
        "env": env,
        "rc": rc,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "wall_s": round(time.time() - started, 1),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    with _COMMANDS_LOG_LOCK, (study.results / "commands.jsonl").open("a") as f:
        f.write(json.dumps(entry) + "\n")
    if rc is None:
        raise TimeLimitReached(f"step {step} stopped at the time limit or by SIGTERM; log: {log_path}")
    if rc != 0:
        tail = "".join(log_path.read_text().splitlines(keepends=True)[-5:])
        raise SweepError(f"step {step} failed (exit {rc}); log: {log_path}\n{tail}")


def _wait(proc: subprocess.Popen, study: Study, grace_s: float = 20.0, poll_s: float = 1.0) -> int | None:
    """The exit status, or None when the study's deadline came first: then the step gets SIGTERM (accelerate's
    launcher passes it on to its workers; an evaluation keeps its completed suites) and, after grace_s, SIGKILL.
    The deadline is read again every poll_s, since a SIGTERM to the sweep brings it forward (cli.py)."""
    while True:
        deadline = study.deadline
        try:
            return proc.wait(timeout=poll_s if deadline is None else min(poll_s, max(deadline - time.time(), 0)))
        except subprocess.TimeoutExpired:
            if deadline_passed(study.deadline):  # read again: a SIGTERM may have brought it forward
                break
    proc.terminate()
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return None


@contextlib.contextmanager
def stop_on_sigterm(study: Study):
    """While the sweep runs, SIGTERM (a batch scheduler's end of job, `timeout`, `kill`) acts as --time-limit
    reached now: no new step starts, the running ones are stopped as at the time limit, so an evaluation keeps
    the suites it completed, and the sweep exits as after its time limit instead of dying with its steps
    orphaned."""

    def stop(signum, frame) -> None:
        print("tradeoff: SIGTERM: stopping the running steps; run again to resume", file=sys.stderr, flush=True)
        study.deadline = time.time()

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def launcher_command(launcher: list[str]) -> list[str]:
    """The study's launcher, run with this interpreter so a virtual environment need not be activated."""
    if launcher and launcher[0] in ("python", "python3"):
        return [sys.executable, *launcher[1:]]
    if launcher[:2] == ["accelerate", "launch"]:
        return [sys.executable, "-m", "accelerate.commands.launch", *launcher[2:]]
    return list(launcher)
