"""`tradeoff humaneval-cut`: answers with special-token text run again cut before it, in the sandbox, with the
verdicts of the others kept; a wrong source is one line and exit 2."""

import gzip
import json
import subprocess
import sys

import numpy as np

from tests.conftest import ROOT
from tradeoff import layout
from tradeoff.humaneval_cut import cut_at_special_token, cut_correct
from tradeoff.samples import Scores

PROBLEMS = [
    {
        "task_id": f"HumanEval/{i}",
        "prompt": f'def f{i}(x):\n    """Return x plus {i}."""\n',
        "test": f"def check(candidate):\n    assert candidate(1) == {1 + i}\n",
        "entry_point": f"f{i}",
        "canonical_solution": f"    return x + {i}\n",
    }
    for i in range(3)
]


def _write_jsonl_gz(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)


def _answers(tag, responses, scores, results):
    rows = [
        {"task": "humaneval", "doc_id": i, "score": s, "response": r}
        for i, (r, s) in enumerate(zip(responses, scores, strict=True))
    ]
    _write_jsonl_gz(layout.eval_dir(results, tag, "humaneval") / layout.QUESTIONS_FILE, rows)


def _run(*args):
    return subprocess.run(
        [sys.executable, "-m", "tradeoff.cli", "humaneval-cut", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_an_answer_is_cut_before_its_first_special_token_text():
    assert cut_at_special_token("    return x<|fim_prefix|># tests\n<|im_end|>") == "    return x"
    assert cut_at_special_token("    return x\n") is None  # nothing to cut: its verdict stands


def test_answers_with_special_token_text_run_again_cut_and_the_others_keep_their_verdict(tmp_path):
    source = tmp_path / "HumanEval.jsonl.gz"
    _write_jsonl_gz(source, PROBLEMS)
    results = tmp_path / "results"
    _answers("base", ["    return x + 0\n", "    return x + 1\n", "    return x + 2\n"], [1.0, 1.0, 1.0], results)
    tuned = [
        "    return x + 0<|fim_prefix|># Test cases\nassert f0(1) == 1",  # right code, broken ending: passes cut
        "    return x - 1<|fim_middle|>",  # wrong code: fails cut too
        "    return x + 2\n",  # nothing to cut
    ]
    _answers("lr-0.001-seed-42", tuned, [0.0, 0.0, 1.0], results)
    proc = _run(results, "--humaneval", tmp_path)  # the folder holding HumanEval.jsonl.gz
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "lr-0.001-seed-42: 2 answer(s) cut at special-token text, 1 pass after the cut" in proc.stdout
    folder = layout.eval_dir(results, "lr-0.001-seed-42", "humaneval")
    record = json.loads((folder / layout.HUMANEVAL_CUT_FILE).read_text())
    assert record["passed_after_cut"] == {
        "0": True,
        "1": False,
    }
    scores = Scores([("humaneval", i) for i in range(3)], np.array([0.0, 0.0, 1.0]), {})
    assert cut_correct(folder, scores).tolist() == [1.0, 0.0, 1.0]
    assert cut_correct(tmp_path / "not-re-run", scores) is None  # the report shows no cut reading then
    _answers("lr-0.001-seed-42", ["    return x + 0\n", *tuned[1:]], [1.0, 0.0, 1.0], results)  # evaluated again
    assert cut_correct(folder, scores) is None  # the re-run read other answers: not shown


def test_a_missing_release_or_a_folder_without_answers_is_one_line_and_exit_2(tmp_path):
    results = tmp_path / "results"
    _answers("base", ["    return x + 0\n"], [1.0], results)
    missing = _run(results, "--humaneval", tmp_path / "nowhere")
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1
    assert "HumanEval.jsonl.gz" in missing.stderr
    source = tmp_path / "HumanEval.jsonl.gz"
    _write_jsonl_gz(source, PROBLEMS)
    empty = _run(tmp_path / "empty", "--humaneval", source)
    assert empty.returncode == 2 and "no humaneval answers" in empty.stderr
    assert not list((tmp_path / "empty").glob("**/*"))  # nothing written
