"""How a benchmark variant is launched: this interpreter, or accelerate over several processes (GPUs); and a
whole command timed with its output in a log.

A variant's flags may start with `--accelerate_config FILE`, optionally followed by `--num_processes N` (which
accelerate needs to run a multi-GPU config as several CPU processes); the rest go to the benchmarked program.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


def split_launcher(flags: str) -> tuple[list[str], str]:
    """The launcher a variant's flags ask for (a command prefix to which `-m module` is added) and the flags
    that remain."""
    words = shlex.split(flags)
    if words[:1] != ["--accelerate_config"]:
        return [sys.executable], flags
    if len(words) < 2:
        raise SystemExit("--accelerate_config needs an accelerate config file")
    launcher = [sys.executable, "-m", "accelerate.commands.launch", "--config_file", words[1]]
    rest = words[2:]
    if rest[:1] == ["--num_processes"]:
        launcher, rest = launcher + rest[:2], rest[2:]
    return launcher, shlex.join(rest)


def timed_run(command: list[str], log: Path, env: dict[str, str] | None = None) -> float:
    """Wall seconds of `command` (with `env` added to this process's environment), its output in `log`; a
    failure ends the benchmark naming the log (a failed side has no time worth reporting)."""
    started = time.perf_counter()
    with Path(log).open("w") as f:
        rc = subprocess.run(command, stdout=f, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}).returncode
    if rc != 0:
        raise SystemExit(f"`{shlex.join(command[:6])} ...` failed (exit {rc}); log: {log}")
    return time.perf_counter() - started


def timed_runs(commands: dict[Path, list[str]], env: dict[str, str] | None = None) -> float:
    """Wall seconds of several commands started at once (each with its output in the log it is keyed by), until
    the last has ended; a failure ends the benchmark as in timed_run."""
    started = time.perf_counter()
    with ThreadPoolExecutor(len(commands)) as pool:
        running = [pool.submit(timed_run, command, log, env) for log, command in commands.items()]
    for run in running:
        run.result()
    return time.perf_counter() - started
