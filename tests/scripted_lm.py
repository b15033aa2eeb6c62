"""An lm-eval model that answers from a script instead of generating: for end-to-end task tests."""

from __future__ import annotations

from collections.abc import Callable

from lm_eval.api.model import LM


class ScriptedLM(LM):
    """answer(doc) -> generated text; choose(doc, continuation) -> log-likelihood, for multiple choice."""

    def __init__(
        self, answer: Callable[[dict], str] | None = None, choose: Callable[[dict, str], float] | None = None
    ):
        super().__init__()
        self.answer, self.choose = answer, choose
        self.contexts: list[str] = []

    def generate_until(self, requests):
        self.contexts += [r.args[0] for r in requests]
        return [self._cut(self.answer(r.doc), r.args[1].get("until", [])) for r in requests]

    @staticmethod
    def _cut(text: str, until: list[str]) -> str:
        """What lm-eval's HF model does with the task's stop strings after generating."""
        for stop in until:
            text = text.split(stop)[0]
        return text

    def loglikelihood(self, requests):
        self.contexts += [r.args[0] for r in requests]
        return [(self.choose(r.doc, r.args[1]), False) for r in requests]

    def loglikelihood_rolling(self, requests):
        raise NotImplementedError("no scripted rolling log-likelihood")


def evaluate(model: LM, tasks_dir, **metadata) -> dict:
    import lm_eval
    from lm_eval.tasks import TaskManager

    return lm_eval.simple_evaluate(
        model=model,
        tasks=["spider_exec"],
        log_samples=True,
        bootstrap_iters=0,
        task_manager=TaskManager(include_path=str(tasks_dir), metadata=metadata),
    )
