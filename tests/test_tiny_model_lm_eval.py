"""Plumbing: the real `lm_eval` command line with a random-init Llama and a peft adapter, offline."""

import pytest

from tests.lm_eval_cli import run_spider_exec
from tests.tiny_model import save_random_adapter


@pytest.mark.slow
def test_lm_eval_cli_runs_spider_exec_with_a_peft_adapter(tiny_model, sample_spider, tmp_path):
    adapter = save_random_adapter(tiny_model, tmp_path / "adapter")
    results = run_spider_exec(
        f"pretrained={tiny_model},peft={adapter},dtype=float32", sample_spider, tmp_path / "results"
    )
    assert 0.0 <= results["results"]["spider_exec"]["exec_match,exec"] <= 1.0
    assert len(results["samples"]) == 3


def test_chat_template_mode_renders_the_shared_prompt_as_the_user_turn(tiny_model, sample_spider):
    import lm_eval
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    from tests.conftest import TASKS_DIR
    from tradeoff_tasks import prompts

    seen = []
    lm = HFLM(pretrained=str(tiny_model), dtype="float32", device="cpu", max_length=2048)
    original = lm.generate_until

    def recording_generate(requests, *args, **kwargs):
        seen.extend(r.args[0] for r in requests)
        return original(requests, *args, **kwargs)

    lm.generate_until = recording_generate
    results = lm_eval.simple_evaluate(
        model=lm,
        tasks=["spider_exec"],
        limit=2,
        apply_chat_template=True,
        bootstrap_iters=0,
        gen_kwargs={"max_gen_toks": 4},
        log_samples=True,
        task_manager=TaskManager(include_path=str(TASKS_DIR), metadata={"spider_dir": str(sample_spider)}),
    )
    doc = results["samples"]["spider_exec"][0]["doc"]
    expected = lm.tokenizer.apply_chat_template(
        prompts.chat_messages(prompts.build_prompt(doc["question"], doc["schema"])),
        tokenize=False,
        add_generation_prompt=True,
    )
    assert seen[0] == expected
