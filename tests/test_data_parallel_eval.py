"""spider_exec split between processes (lm-eval's data-parallel mode) scores every question once, as one process does."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT, TASKS_DIR
from tests.data_parallel_eval import answer, summary
from tests.scripted_lm import ScriptedLM, evaluate


@pytest.mark.slow
def test_two_ranks_score_every_question_once_with_the_metrics_of_one_process(sample_spider, tmp_path):
    one_process = summary(evaluate(ScriptedLM(answer), TASKS_DIR, spider_dir=str(sample_spider)))
    out = tmp_path / "two-ranks.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--nproc_per_node",
            "2",
            "-m",
            "tests.data_parallel_eval",
            str(sample_spider),
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    two_ranks = json.loads(out.read_text())
    assert two_ranks["world_size"] == 2
    # 107 questions: one rank answers 54, the other 53 plus one padding request lm-eval adds to even them out
    assert two_ranks["contexts_on_rank_0"] in (54, 55)
    assert [q[0] for q in two_ranks["questions"]] == list(range(107))
    assert two_ranks["questions"] == one_process["questions"]
    assert two_ranks["metrics"] == pytest.approx(one_process["metrics"])
    assert 0 < one_process["metrics"]["exec_match,exec"] < 1
