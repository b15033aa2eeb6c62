"""Model-written Python runs isolated and bounded (tradeoff_tasks/python_sandbox.py), and HumanEval's own
canonical solutions pass through it."""

from __future__ import annotations

import gzip
import json
import socket
import subprocess
import tempfile
import time

import pytest

from tests.conftest import ABSENT, SHARED
from tradeoff_tasks import humaneval_scoring
from tradeoff_tasks.python_sandbox import Limits, run_program, run_programs

QUICK = Limits(wall_s=3.0, cpu_s=2)


@pytest.fixture(autouse=True)
def private_tmp(tmp_path, monkeypatch):
    """Each sandbox's working directory is made here, so a test can see that none is left behind."""
    folder = tmp_path / "sandboxes"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    assert list(folder.iterdir()) == [], "a sandbox working directory was left behind"


def sandbox_processes() -> list[str]:
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    return [line for line in ps.splitlines() if "python_sandbox_child.py" in line]


def test_a_correct_program_passes_and_a_failing_one_reports_its_exception():
    assert run_program("def f(x):\n    return x + 1\nassert f(1) == 2\n", QUICK).passed
    outcome = run_program("assert 1 == 2, 'wrong answer'\n", QUICK)
    assert (outcome.passed, outcome.status, outcome.detail) == (False, "failed", "AssertionError: wrong answer")


def test_an_endless_loop_is_stopped_at_the_cpu_limit():
    started = time.monotonic()
    outcome = run_program("while True:\n    pass\n", QUICK)
    assert outcome.status == "timeout" and time.monotonic() - started < QUICK.wall_s + 2
    assert sandbox_processes() == []


def test_a_sleeping_program_is_stopped_at_the_wall_clock_deadline():
    started = time.monotonic()
    outcome = run_program("import time\ntime.sleep(600)\n", QUICK)
    assert outcome.status == "timeout" and "wall time" in outcome.detail
    assert time.monotonic() - started < QUICK.wall_s + 2
    assert sandbox_processes() == []


@pytest.mark.parametrize(
    "bomb",
    [
        "import os\nwhile True:\n    os.fork()\n",
        "import subprocess\nwhile True:\n    subprocess.Popen(['sleep', '600'])\n",
        "import multiprocessing\nwhile True:\n    multiprocessing.Process(target=input).start()\n",
        "import os\nos.system('sleep 600 &')\n",
    ],
)
def test_a_fork_bomb_starts_no_process_and_leaves_none_behind(bomb):
    outcome = run_program(bomb, QUICK)
    assert outcome.status == "failed" and "not allowed" in outcome.detail
    assert sandbox_processes() == []


def test_a_20_gb_allocation_fails_inside_the_program():
    outcome = run_program("x = bytearray(20 * 1024**3)\n", QUICK)
    assert (outcome.status, outcome.detail) == ("failed", "MemoryError")


def test_writes_outside_the_working_directory_are_refused_and_leave_no_file(tmp_path):
    target = tmp_path / "written-by-the-model.txt"
    for program in [
        f"open({str(target)!r}, 'w').write('x')\n",
        f"import os\nos.chdir({str(tmp_path)!r})\nopen({target.name!r}, 'w').write('x')\n",
        f"import pathlib\npathlib.Path({str(target)!r}).write_text('x')\n",
        f"import os\nos.open({str(target)!r}, os.O_CREAT | os.O_WRONLY)\n",
        f"import shutil\nshutil.copy('program.py', {str(target)!r})\n",
        f"import os\nos.symlink('/etc/passwd', {str(target)!r})\n",
    ]:
        outcome = run_program(program, QUICK)
        assert outcome.status == "failed" and "outside the working directory" in outcome.detail, program
        assert not target.exists() and not target.is_symlink(), program


def test_files_inside_the_working_directory_are_bounded_in_size_and_deleted_afterwards():
    assert run_program("open('scratch.txt', 'w').write('x' * 1000)\n", QUICK).passed
    outcome = run_program("open('big', 'wb').write(b'x' * 100 * 1024**2)\n", QUICK)
    assert outcome.status == "failed" and "File too large" in outcome.detail


def test_a_socket_connect_is_refused_and_nothing_arrives():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.5)
    port = server.getsockname()[1]
    for program in [
        f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=2)\n",
        f"import socket\ns = socket.socket()\ns.connect(('127.0.0.1', {port}))\n",
        "import urllib.request\nurllib.request.urlopen('http://example.com', timeout=2)\n",
    ]:
        outcome = run_program(program, QUICK)
        assert outcome.status == "failed" and "not allowed" in outcome.detail, program
    with pytest.raises(TimeoutError):
        server.accept()
    server.close()


def test_ctypes_and_early_exits_do_not_get_around_the_checks():
    assert "not allowed" in run_program("import ctypes\n", QUICK).detail
    assert run_program("import sys\nsys.exit(0)\nassert False\n", QUICK).status == "exited early"
    assert not run_program("import os\nos._exit(0)\nassert False\n", QUICK).passed


def test_many_programs_run_in_parallel_in_order():
    outcomes = run_programs([f"assert {n} % 2 == 0\n" for n in range(8)], QUICK, workers=4)
    assert [o.passed for o in outcomes] == [n % 2 == 0 for n in range(8)]


def test_the_task_builds_the_harness_program_and_scores_it():
    doc = {"prompt": "def add(a, b):\n", "test": "def check(f):\n    assert f(2, 3) == 5\n", "entry_point": "add"}
    built = humaneval_scoring.build_and_run([["    return a + b\n"], ["    return a * b\n"]], [doc, doc])
    assert built == [["def add(a, b):\n    return a + b\n"], ["def add(a, b):\n    return a * b\n"]]
    assert humaneval_scoring.process_results(doc, built[0]) == {"pass_at_k": 1.0}
    assert humaneval_scoring.process_results(doc, built[1]) == {"pass_at_k": 0.0}


def test_the_164_canonical_humaneval_solutions_pass():
    path = SHARED / "data" / "humaneval" / "HumanEval.jsonl.gz"
    if not path.is_file():
        pytest.skip(f"HumanEval release not found at {path} ({ABSENT})")
    with gzip.open(path, "rt") as f:
        problems = [json.loads(line) for line in f]
    programs = [humaneval_scoring.program(p, p["prompt"] + p["canonical_solution"]) for p in problems]
    outcomes = run_programs(programs)
    failed = {p["task_id"]: o.detail for p, o in zip(problems, outcomes, strict=True) if not o.passed}
    assert len(problems) == 164 and failed == {}
