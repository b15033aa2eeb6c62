"""`tradeoff humaneval-cut results/<study> --humaneval HumanEval.jsonl.gz`: HumanEval pass@1 again, with each
answer cut at its first special-token text.

A tuned model can end a function with a tokenizer control token as text (Qwen's `<|fim_prefix|>`, which starts
a new file) where its base ends it with the end-of-text token. The harness's stop sequences do not catch it, so
the token stays in the program and the program does not run. This runs those answers again, cut before the
token, in the same sandbox and program layout as the evaluation's humaneval task, so that the report can tell a
change in how a model ends its code from a change in the code. It is a reading beside the harness's score,
never a replacement: the harness's pass@1 stays the headline.

Answers without special-token text keep their recorded verdict (their program would be the same). Each model's
re-run goes to eval/<tag>/humaneval/ (layout.HUMANEVAL_CUT_FILE) with the sha256 of the answers it read;
`tradeoff report` reads it from there, and ignores it once those answers have changed (a new evaluation).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tradeoff import layout
from tradeoff.diagnostics import SPECIAL_TOKEN_TEXT
from tradeoff.local_datasets import SourceError
from tradeoff.probes import PROBES
from tradeoff.samples import Scores
from tradeoff_tasks.humaneval_scoring import LIMITS, program
from tradeoff_tasks.python_sandbox import run_programs
from tradeoff_tasks.records import file_sha256, read_records, write_json_atomically

SUITE = PROBES["humaneval"].name  # the probe whose answers it runs again
PREFIX = "humaneval_cut_pass1"  # its columns in the report's rows


def cut_at_special_token(response: str) -> str | None:
    """The answer up to its first special-token text; None if it has none."""
    found = SPECIAL_TOKEN_TEXT.search(response)
    return None if found is None else response[: found.start()]


def load_problems(path: Path) -> list[dict]:
    """HumanEval's problems in release order (the harness's doc_id is the position)."""
    return read_records(path, ("task_id", "prompt", "test", "entry_point"), SourceError)


def rescore_model(folder: Path, problems: list[dict]) -> dict:
    """Run every answer of one model's humaneval folder that has special-token text again, cut before it."""
    questions = read_records(folder / layout.QUESTIONS_FILE, (), ValueError)
    cut = {q["doc_id"]: cut_at_special_token(q["response"] or "") for q in questions}
    cut = {doc_id: text for doc_id, text in cut.items() if text is not None}
    if any(doc_id >= len(problems) for doc_id in cut):
        raise SourceError(f"{folder}: a question beyond the {len(problems)} problems given: another HumanEval release")
    ids = sorted(cut)
    sources = [program(problems[i], problems[i]["prompt"] + cut[i]) for i in ids]
    outcomes = run_programs(sources, LIMITS)
    return {
        "answers_sha256": file_sha256(folder / layout.QUESTIONS_FILE),
        "cut_at": SPECIAL_TOKEN_TEXT.pattern,
        "passed_after_cut": {str(i): outcome.passed for i, outcome in zip(ids, outcomes, strict=True)},
    }


def rescore_study(results_dir: Path, source: Path) -> dict[str, dict]:
    """Every model of the study with a humaneval question file; returns what each wrote, by tag."""
    from tradeoff.probe_data import humaneval_release_file  # imports the harness, which the report does not need

    release = humaneval_release_file(source)
    problems, release_sha256 = load_problems(release), file_sha256(release)
    folders = sorted((Path(results_dir) / "eval").glob(f"*/{SUITE}/{layout.QUESTIONS_FILE}"))
    if not folders:
        raise FileNotFoundError(f"{results_dir}: no humaneval answers (eval/*/humaneval/{layout.QUESTIONS_FILE})")
    written = {}
    for questions in folders:
        record = rescore_model(questions.parent, problems) | {"humaneval_sha256": release_sha256}
        write_json_atomically(questions.parent / layout.HUMANEVAL_CUT_FILE, record)
        written[questions.parent.parent.name] = record
    return written


def cut_correct(folder: Path, scores: Scores) -> np.ndarray | None:
    """A model's humaneval scores with the re-run answers' verdicts in place; None if it was not re-run, or
    was re-run on answers it no longer has."""
    path = folder / layout.HUMANEVAL_CUT_FILE
    if not path.is_file():
        return None
    record = json.loads(path.read_text())
    if record.get("answers_sha256") != file_sha256(folder / layout.QUESTIONS_FILE):
        return None
    passed = record["passed_after_cut"]
    return np.array(
        [
            float(passed[str(doc_id)]) if str(doc_id) in passed else c
            for (_, doc_id), c in zip(scores.keys, scores.correct, strict=True)
        ]
    )
