"""Training and evaluation see byte-identical prompts, in plain and in chat-template mode.

The evaluation side is what lm-eval really sends to the model (captured from HFLM.generate_until); the
training side is what trl's SFTTrainer really tokenized (the tokens before its labels start).
"""

import pytest

from tests.conftest import TASKS_DIR, TINY_CONFIG_PATH

N_QUESTIONS = 6


def _lm_eval_contexts(model_dir, spider_dir, chat: bool) -> dict[int, str]:
    import lm_eval
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    lm = HFLM(pretrained=str(model_dir), dtype="float32", device="cpu", max_length=4096)
    seen = {}

    def recording_generate(requests, *args, **kwargs):
        seen.update({r.doc["index"]: r.args[0] for r in requests})
        return ["SELECT 1"] * len(requests)

    lm.generate_until = recording_generate
    lm_eval.simple_evaluate(
        model=lm,
        tasks=["spider_exec"],
        limit=N_QUESTIONS,
        apply_chat_template=chat,
        bootstrap_iters=0,
        task_manager=TaskManager(include_path=str(TASKS_DIR), metadata={"spider_dir": str(spider_dir)}),
    )
    return seen, lm


def _trl_prompts(model_dir, spider_dir, chat: bool, tmp_path):
    from training.sft import build_trainer, parse

    spider, model_args, args = parse(
        [
            "--config",
            str(TINY_CONFIG_PATH),
            "--model_name_or_path",
            str(model_dir),
            "--spider_dir",
            str(spider_dir),
            "--split",
            "dev",
            "--max_samples",
            str(N_QUESTIONS),
            "--chat_template",
            str(chat).lower(),
            "--output_dir",
            str(tmp_path / "o"),
            "--max_length",
            "4096",
        ]
    )
    trainer, _, _ = build_trainer(spider, model_args, args)
    prompts = []
    for row in trainer.train_dataset:
        n_prompt = next(i for i, label in enumerate(row["labels"]) if label != -100)  # trl masks the prompt
        prompts.append(row["input_ids"][:n_prompt])
    return prompts, trainer.processing_class


@pytest.mark.parametrize("chat", [False, True], ids=["plain", "chat-template"])
def test_prompts_are_byte_identical_on_real_spider(real_spider, tiny_model, tmp_path, chat):
    contexts, lm = _lm_eval_contexts(tiny_model, real_spider, chat)
    prompt_ids, tokenizer = _trl_prompts(tiny_model, real_spider, chat, tmp_path)
    assert sorted(contexts) == list(range(N_QUESTIONS))  # the first dev questions all have their database
    for index, ids in enumerate(prompt_ids):
        assert tokenizer.decode(ids) == contexts[index]  # the same bytes ...
        assert lm.tok_batch_encode([contexts[index]])[0][0].tolist() == ids  # ... and the same tokens
    if chat:
        assert contexts[0].startswith("<|user|>\n") and contexts[0].endswith("<|assistant|>\n")
