"""An lm-eval model that answers from a script instead of generating: for end-to-end task tests."""

from __future__ import annotations

from typing import Callable

from lm_eval.api.model import LM


class ScriptedLM(LM):
    def __init__(self, answer: Callable[[dict], str]):
        super().__init__()
        self.answer = answer
        self.contexts: list[str] = []

    def generate_until(self, requests):
        self.contexts += [r.args[0] for r in requests]
        return [self.answer(r.doc) for r in requests]

    def loglikelihood(self, requests):
        raise NotImplementedError("spider_exec only generates")

    def loglikelihood_rolling(self, requests):
        raise NotImplementedError("spider_exec only generates")


def evaluate(model: LM, tasks_dir, **metadata) -> dict:
    import lm_eval
    from lm_eval.tasks import TaskManager

    return lm_eval.simple_evaluate(model=model, tasks=["spider_exec"], log_samples=True, bootstrap_iters=0,
                                   task_manager=TaskManager(include_path=str(tasks_dir), metadata=metadata))
