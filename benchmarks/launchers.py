"""How a benchmark variant is launched: this interpreter, or accelerate over several processes (GPUs).

A variant's flags may start with `--accelerate_config FILE`, optionally followed by `--num_processes N` (which
accelerate needs to run a multi-GPU config as several CPU processes); the rest go to the benchmarked program.
"""

from __future__ import annotations

import shlex
import sys


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
