"""Stopping a sweep early: a step running at the deadline is stopped and reported as such, and a SIGTERM to
the sweep brings the deadline forward, so its steps stop the same way (fast, no models), and end to end on
the tiny study (slow)."""

import json
import os
import signal
import sys
import threading
import time

import pytest

from tests.minimal_study import minimal_study
from tests.test_sweep import _sweep, study_file  # noqa: F401 (study_file: the tiny study, a fixture)
from tradeoff.step_commands import TimeLimitReached, run_logged, stop_on_sigterm


def test_a_deadline_brought_forward_stops_the_running_step(tmp_path):
    s = minimal_study(tmp_path)
    threading.Timer(0.5, lambda: setattr(s, "deadline", time.time())).start()
    started = time.monotonic()
    with pytest.raises(TimeLimitReached, match="step slow stopped"):
        run_logged(s, "slow", [sys.executable, "-c", "import time; time.sleep(60)"], {})
    assert time.monotonic() - started < 10  # stopped by SIGTERM at the next poll, not waited for
    [entry] = [json.loads(line) for line in (s.results / "commands.jsonl").read_text().splitlines()]
    assert entry["step"] == "slow" and entry["rc"] is None


def test_sigterm_to_the_sweep_brings_its_deadline_forward_and_the_handler_is_restored(tmp_path):
    s = minimal_study(tmp_path)
    before = signal.getsignal(signal.SIGTERM)
    with stop_on_sigterm(s):
        assert s.deadline is None
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.1)  # the handler runs in the main thread between bytecodes
        assert s.deadline is not None and s.deadline <= time.time()
    assert signal.getsignal(signal.SIGTERM) is before


def _running_under(tmp_path) -> list[str]:
    """Command lines of live processes that name this test's folder (the sweep's steps do, in their paths)."""
    found = []
    for proc in os.listdir("/proc"):
        try:
            with open(f"/proc/{proc}/cmdline", "rb") as f:
                line = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if proc.isdigit() and str(tmp_path) in line:
            found.append(line)
    return found


@pytest.mark.slow
def test_sigterm_to_the_sweep_alone_stops_its_steps_and_keeps_completed_suites(study_file, tmp_path):  # noqa: F811
    results = tmp_path / "results"
    sweep = _sweep(study_file)
    deadline = time.monotonic() + 300
    while not list((results / "eval" / "base").glob("*.partial/raw/COMPLETE")):  # a suite of the base is done
        assert sweep.poll() is None, sweep.stdout.read()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    sweep.send_signal(signal.SIGTERM)  # to the sweep only, as `timeout` or a batch scheduler sends it
    output = sweep.communicate(timeout=120)[0]
    assert sweep.returncode == 3, output[-3000:]
    assert "SIGTERM" in output and "run the same command again to resume" in output
    kept = [p.parent.name for p in (results / "eval" / "base").glob("*/evaluated_model.txt")]
    assert kept, output[-3000:]  # what completed before the signal is in place, not left in a .partial
    assert not (results / "report.md").exists()
    time.sleep(1)
    assert not _running_under(tmp_path)  # no step left running orphaned
