"""A pool of persistent worker processes that score SQL pairs, with a hard wall-clock kill.

Each worker is a fresh interpreter (`python -m tradeoff_tasks.sql_worker`) with an address-space rlimit.
A task that outlives its deadline (work SQLite cannot interrupt, or a runaway comparison) gets its worker
SIGKILLed and replaced; the caller receives an error result, and the harness process never sees a crash.
"""

from __future__ import annotations

import atexit
import json
import os
import selectors
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path

_PACKAGE_PARENT = str(Path(__file__).resolve().parent.parent)
KILL_GRACE_S = 1.0


class _Worker:
    def __init__(self, memory_bytes: int):
        env = dict(
            os.environ, PYTHONPATH=os.pathsep.join(filter(None, [_PACKAGE_PARENT, os.environ.get("PYTHONPATH")]))
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tradeoff_tasks.sql_worker", str(memory_bytes)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            bufsize=0,
        )
        self.buffer = b""
        self.index: int | None = None
        self.deadline = 0.0

    def send(self, index: int, task: dict, hard_timeout_s: float) -> None:
        self.index, self.deadline = index, time.monotonic() + hard_timeout_s
        self.proc.stdin.write((json.dumps({**task, "id": index}) + "\n").encode())

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()


class WorkerPool:
    def __init__(self, n_workers: int | None = None, memory_bytes: int = 2 << 30):
        self.n_workers = max(1, n_workers or os.cpu_count() or 1)
        self.memory_bytes = memory_bytes
        self._workers: list[_Worker] = []

    def run(self, tasks: list[dict], on_result: Callable[[int, dict], None] | None = None) -> list[dict]:
        """Score tasks ({'db','gold','prediction','keep_distinct','timeout','max_rows'}); results in input order."""
        results: list[dict | None] = [None] * len(tasks)
        pending = deque(range(len(tasks)))
        while len(self._workers) < min(self.n_workers, len(tasks)):
            self._workers.append(_Worker(self.memory_bytes))
        selector = selectors.DefaultSelector()
        for worker in self._workers:
            selector.register(worker.proc.stdout, selectors.EVENT_READ, worker)

        def finish(worker: _Worker, result: dict) -> None:
            results[worker.index] = result
            if on_result:
                on_result(worker.index, result)
            worker.index = None

        def replace(worker: _Worker) -> None:
            selector.unregister(worker.proc.stdout)
            worker.kill()
            fresh = _Worker(self.memory_bytes)
            self._workers[self._workers.index(worker)] = fresh
            selector.register(fresh.proc.stdout, selectors.EVENT_READ, fresh)

        try:
            while True:
                for worker in list(self._workers):
                    if worker.index is None and pending:
                        i = pending.popleft()
                        try:
                            worker.send(i, tasks[i], 2 * tasks[i]["timeout"] + KILL_GRACE_S)  # gold + prediction
                        except BrokenPipeError:  # it died while idle: the task goes to a fresh worker
                            worker.index = None
                            pending.appendleft(i)
                            replace(worker)
                busy = [w for w in self._workers if w.index is not None]
                if not busy:
                    if pending:  # a worker was just replaced; hand out the rest on the next pass
                        continue
                    break
                wait_s = max(0.0, min(w.deadline for w in busy) - time.monotonic())
                for key, _ in selector.select(wait_s):
                    worker = key.data
                    chunk = os.read(worker.proc.stdout.fileno(), 1 << 16)
                    if not chunk:  # the worker died (e.g. killed by the kernel)
                        finish(worker, _failure("worker process died"))
                        replace(worker)
                        continue
                    worker.buffer += chunk
                    if worker.buffer.endswith(b"\n"):
                        result = json.loads(worker.buffer)
                        worker.buffer = b""
                        del result["id"]
                        finish(worker, result)
                now = time.monotonic()
                for worker in list(self._workers):
                    if worker.index is not None and now > worker.deadline:
                        finish(worker, _failure("timeout: worker killed at the hard limit"))
                        replace(worker)
        finally:
            selector.close()
        return results  # type: ignore[return-value]

    def close(self) -> None:
        for worker in self._workers:
            worker.kill()
        self._workers.clear()


def _failure(reason: str) -> dict:
    return {"exec_match": 0, "error": reason, "gold_error": None, "gold_empty": None}


_shared_pool: WorkerPool | None = None


def shared_pool() -> WorkerPool:
    """One pool per process for the lm-eval task; closed at interpreter exit."""
    global _shared_pool
    if _shared_pool is None:
        _shared_pool = WorkerPool()
        atexit.register(_shared_pool.close)
    return _shared_pool


def score_tasks(tasks: Iterable[dict], pool: WorkerPool | None = None, **kwargs) -> list[dict]:
    return (pool or shared_pool()).run(list(tasks), **kwargs)
