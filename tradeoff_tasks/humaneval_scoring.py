"""pass@1 for HumanEval, each program run by python_sandbox (never in the evaluating process).

A program is the harness's: the problem's prompt, the model's completion, the problem's test and a call of
`check(<entry_point>)`. It passes when it runs to its end. Verdicts are kept by program text, so the
filter can run every program in parallel and process_results only looks them up.
"""

from __future__ import annotations

from tradeoff_tasks.python_sandbox import Limits, Outcome, run_program, run_programs

LIMITS = Limits()
_outcomes: dict[str, Outcome] = {}


def program(doc: dict, completion_with_prompt: str) -> str:
    return f"{completion_with_prompt}\n{doc['test']}\ncheck({doc['entry_point']})\n"


def build_and_run(resps: list[list[str]], docs: list[dict]) -> list[list[str]]:
    """Filter: prompt + completion per response (what the harness's build_predictions makes), then run all."""
    built = [[doc["prompt"] + r for r in doc_resps] for doc, doc_resps in zip(docs, resps, strict=True)]
    todo = {program(doc, p) for doc, preds in zip(docs, built, strict=True) for p in preds} - _outcomes.keys()
    todo = sorted(todo)
    _outcomes.update(zip(todo, run_programs(todo, LIMITS), strict=True))
    return built


def outcome(doc: dict, prediction: str) -> Outcome:
    source = program(doc, prediction)
    if source not in _outcomes:
        _outcomes[source] = run_program(source, LIMITS)
    return _outcomes[source]


def process_results(doc: dict, results: list[str]) -> dict:
    return {"pass_at_k": float(outcome(doc, results[0]).passed)}
