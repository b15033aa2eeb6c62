"""Run model-written Python isolated and bounded, never inside the evaluating process.

Each program runs in a fresh interpreter (`python -I -S -B`: no site-packages, no environment variables,
no bytecode files) that python_sandbox_child.py sets up. The layers:
- its own session and process group, killed as a group (SIGKILL) at the wall-clock deadline and again
  when it ends, so nothing it started outlives it;
- resource limits: CPU seconds, address space, size of any file it writes, open files, processes;
- a throw-away working directory (also HOME and TMPDIR), deleted afterwards;
- an audit hook (PEP 578) that refuses writes outside that directory, sockets, starting processes or
  signalling others, and ctypes;
- a network namespace of its own (only a loopback that is down) where the kernel allows unprivileged user
  namespaces.
This bounds careless or runaway code (endless loops, fork bombs, huge allocations, stray writes, network
calls). It is not a boundary against a determined attacker: run untrusted code at scale in a container or VM.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from tradeoff_tasks.python_sandbox_child import EXIT_EARLY

CHILD = Path(__file__).resolve().with_name("python_sandbox_child.py")
STDERR_TAIL_BYTES = 2000


@dataclass(frozen=True)
class Limits:
    wall_s: float = 10.0
    cpu_s: int = 10
    memory_bytes: int = 2 * 1024**3
    file_bytes: int = 16 * 1024**2
    open_files: int = 64
    processes: int = 1  # threads count too; where the kernel enforces it, no new process can start


@dataclass(frozen=True)
class Outcome:
    passed: bool
    status: str  # passed | failed | timeout | exited early
    detail: str  # the last line of stderr: the exception, or why it was stopped


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _last_line(path: Path) -> str:
    with path.open("rb") as f:
        f.seek(max(0, path.stat().st_size - STDERR_TAIL_BYTES))
        lines = f.read().decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else ""


def run_program(source: str, limits: Limits = Limits()) -> Outcome:
    """Run `source` as a script; it passes when it runs to its end without an exception."""
    workdir = Path(tempfile.mkdtemp(prefix="sandbox-"))
    try:
        (workdir / "program.py").write_text(source, encoding="utf-8")
        env = {"PATH": "/usr/bin:/bin", "HOME": str(workdir), "TMPDIR": str(workdir), "LANG": "C.UTF-8"}
        with (workdir / "stdout").open("wb") as out, (workdir / "stderr").open("wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-I", "-S", "-B", str(CHILD), json.dumps(asdict(limits))],
                cwd=workdir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                start_new_session=True,
            )
            try:
                code = proc.wait(timeout=limits.wall_s)
            except subprocess.TimeoutExpired:
                code = None
            finally:
                _kill_group(proc.pid)  # the session's id is the child's pid
                proc.wait()
        detail = _last_line(workdir / "stderr")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if code is None:
        return Outcome(False, "timeout", f"stopped after {limits.wall_s:g} s of wall time")
    if code == -signal.SIGXCPU or code == -signal.SIGKILL:
        return Outcome(False, "timeout", f"stopped at the {limits.cpu_s} s CPU limit")
    if code == EXIT_EARLY:
        return Outcome(False, "exited early", detail)
    if code != 0:
        return Outcome(False, "failed", detail or f"exit status {code}")
    return Outcome(True, "passed", "")


def run_programs(sources: list[str], limits: Limits = Limits(), workers: int | None = None) -> list[Outcome]:
    """run_program over many sources in parallel (one interpreter each), in order."""
    workers = workers or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda source: run_program(source, limits), sources))
