"""tradeoff.lm_eval_runs: several lm_eval command lines in one process, the model loaded once, with the same
output as the plain `lm_eval` command."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys

from tests.conftest import ROOT, TASKS_DIR
from tests.lm_eval_cli import run_spider_exec
from tradeoff.lm_eval_runs import COMPLETE, run


def _arguments(model, spider, out, *extra) -> str:
    return shlex.join(
        [
            "--model", "hf",
            "--model_args", f"pretrained={model},dtype=float32",
            "--tasks", "spider_exec",
            "--include_path", str(TASKS_DIR),
            "--gen_kwargs", "max_gen_toks=8",
            "--metadata", json.dumps({"spider_dir": str(spider)}),
            "--output_path", str(out),
            "--log_samples",
            "--device", "cpu",
            *extra,
        ]
    )  # fmt: skip


def _read(out):
    [results_file] = out.rglob("results_*.json")
    [samples_file] = out.rglob("samples_spider_exec_*.jsonl")
    samples = [json.loads(line) for line in samples_file.read_text().splitlines()]
    return json.loads(results_file.read_text()), samples


def test_runs_share_one_model_and_write_what_the_lm_eval_command_writes(tmp_path, tiny_model, sample_spider):
    first = _arguments(tiny_model, sample_spider, tmp_path / "first", "--limit", "2", "--batch_size", "2")
    second = _arguments(tiny_model, sample_spider, tmp_path / "second", "--limit", "3", "--batch_size", "1")
    proc = subprocess.run(
        [sys.executable, "-m", "tradeoff.lm_eval_runs", first, second],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "2 runs, 1 model loads" in proc.stdout
    assert (tmp_path / "first" / COMPLETE).is_file() and (tmp_path / "second" / COMPLETE).is_file()

    plain = run_spider_exec(f"pretrained={tiny_model},dtype=float32", sample_spider, tmp_path / "plain", 3,
                            "--batch_size", "1")  # fmt: skip
    results, samples = _read(tmp_path / "second")  # the run that reused the model the first one loaded
    assert results["results"] == plain["results"]
    assert results["config"]["model"] == plain["config"]["model"] == "hf"
    assert results["config"]["model_args"] == plain["config"]["model_args"]
    assert results["config"]["batch_size"] == "1"
    assert [s["resps"] for s in samples] == [s["resps"] for s in plain["samples"]]
    assert [s["exec_match"] for s in samples] == [s["exec_match"] for s in plain["samples"]]
    assert len(_read(tmp_path / "first")[1]) == 2


def test_a_failing_run_keeps_the_runs_before_it(tmp_path, tiny_model, sample_spider, capsys):
    import lm_eval

    good = _arguments(tiny_model, sample_spider, tmp_path / "good", "--limit", "1")
    bad = _arguments(tiny_model, sample_spider, tmp_path / "bad", "--limit", "1").replace(
        "spider_exec", "no_such_task"
    )
    assert run([good, bad, good.replace("good", "never")]) == 1
    assert "run 2 failed" in capsys.readouterr().err
    assert (tmp_path / "good" / COMPLETE).is_file()
    assert not (tmp_path / "bad").exists() and not (tmp_path / "never").exists()
    assert "simple_evaluate" not in vars(lm_eval)  # the harness's own function again for whoever runs next


def test_each_run_needs_its_own_output_path(capsys):
    assert run(["--model hf --tasks spider_exec"]) == 2
    assert "has no --output_path" in capsys.readouterr().err


def test_grouped_decode_is_switched_on_before_the_first_run(tmp_path, monkeypatch):
    from tradeoff_tasks import grouped_decode

    switched = []
    monkeypatch.setattr(grouped_decode, "use_grouped_decode", lambda enabled=True: switched.append(enabled))
    help_only = shlex.join(["--help", "--output_path", str(tmp_path / "out")])  # parses, prints help, exits 0
    assert run([help_only]) == 0 and switched == []
    assert run([help_only], grouped_decode=True) == 0 and switched == [True]
