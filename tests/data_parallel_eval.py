"""spider_exec through lm-eval's evaluator as one of several processes (torch.distributed over gloo), the way
`accelerate launch -m lm_eval` splits the questions between GPUs, with a scripted model instead of generation.

    python -m torch.distributed.run --nproc_per_node 2 -m tests.data_parallel_eval SPIDER_DIR OUT.json

Rank 0 writes lm-eval's metrics and, per question, the index, the filtered prediction and the metrics.
"""

from __future__ import annotations

import json
import sys

import torch
import torch.distributed as dist

from tests.conftest import TASKS_DIR
from tests.scripted_lm import ScriptedLM, evaluate


def answer(doc: dict) -> str:
    """Right, wrong, unexecutable and prose answers, so that a mixed-up split would change the metrics."""
    return {0: "SELECT nonsense FROM nowhere", 1: "I cannot answer that.", 2: "SELECT 12345"}.get(
        doc["index"] % 5, doc["query"]
    )


class DistributedScriptedLM(ScriptedLM):
    """The rank, world size and collectives lm-eval's evaluator asks a data-parallel model for."""

    device = "cpu"

    def __init__(self, answer):
        super().__init__(answer)
        dist.init_process_group("gloo")
        self._rank, self._world_size = dist.get_rank(), dist.get_world_size()

    def all_gather(self, tensor):
        parts = [torch.zeros_like(tensor) for _ in range(self.world_size)]
        dist.all_gather(parts, tensor)
        return torch.stack(parts)

    def gather_object(self, obj, dst=0):
        gathered = [None] * self.world_size if self.rank == dst else None
        dist.gather_object(obj, gathered, dst=dst)
        return gathered

    def barrier(self) -> None:
        dist.barrier()


def summary(results: dict) -> dict:
    """What must not depend on how the questions were split: the metrics and every question's outcome."""
    metrics = {
        k: v for k, v in results["results"]["spider_exec"].items() if k.endswith(",exec") and "_stderr" not in k
    }
    per_question = sorted(
        [s["doc"]["index"], s["filtered_resps"][0], s["exec_match"], s["exec_error"]]
        for s in results["samples"]["spider_exec"]
    )
    return {"metrics": metrics, "questions": per_question}


def main(spider_dir: str, out: str) -> None:
    model = DistributedScriptedLM(answer)
    results = evaluate(model, TASKS_DIR, spider_dir=spider_dir)
    if model.rank == 0:
        with open(out, "w") as f:
            json.dump(dict(summary(results), world_size=model.world_size, contexts_on_rank_0=len(model.contexts)), f)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(*sys.argv[1:])
