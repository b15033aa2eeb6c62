"""The real SmolLM2-135M-Instruct GGUF (TRADEOFF_TEST_DATA): QLoRA on real Spider (CPU, a few steps), then lm-eval."""

import pytest

from tests.conftest import ABSENT, SHARED
from tests.lm_eval_cli import run_spider_exec
from tests.training_runs import DDP_LAUNCH, meta, run_sft
from training.model import gguf_as_hf_folder, gguf_hf_folder

MODEL_DIR = SHARED / "models" / "smollm2-135m-instruct"
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="module")
def smollm2():
    if not (MODEL_DIR / GGUF).is_file():
        pytest.skip(f"SmolLM2 GGUF not found at {MODEL_DIR / GGUF} ({ABSENT})")
    return MODEL_DIR


@pytest.mark.slow
def test_gguf_base_is_fine_tuned_in_4bit_and_evaluated_with_the_adapter(smollm2, real_spider, tmp_path):
    out = tmp_path / "adapter"
    proc = run_sft(
        smollm2,
        real_spider,
        out,
        "--gguf_file",
        GGUF,
        "--quantization",
        "4bit",
        "--chat_template",
        "true",
        "--max_samples",
        "8",
        "--max_steps",
        "2",
        "--per_device_train_batch_size",
        "2",
        "--logging_steps",
        "1",
        "--base_model_cache",
        str(tmp_path / "base-cache"),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    info = meta(out)
    assert info["loaded_in_4bit"] is True and info["gguf_file"] == GGUF and info["steps"] == 2
    [converted] = (tmp_path / "base-cache").glob("SmolLM2-135M-Instruct.Q4_1-*/config.json")
    assert converted.parent == gguf_hf_folder(str(smollm2), GGUF, tmp_path / "base-cache")
    # the sweep evaluates from the converted folder, as here; the GGUF itself loads in lm-eval too
    from_folder = run_spider_exec(
        f"pretrained={converted.parent},peft={out},dtype=float32",
        real_spider,
        tmp_path / "eval",
        2,
        "--apply_chat_template",
    )
    assert len(from_folder["samples"]) == 2
    from_gguf = run_spider_exec(
        f"pretrained={smollm2},gguf_file={GGUF},peft={out},dtype=float32",
        real_spider,
        tmp_path / "eval-gguf",
        2,
        "--apply_chat_template",
    )
    assert [s["arguments"] for s in from_folder["samples"]] == [s["arguments"] for s in from_gguf["samples"]]


@pytest.mark.slow
def test_two_launched_ranks_on_a_cold_cache_convert_the_gguf_once(smollm2, real_spider, tmp_path):
    """On a fresh machine both ranks of a launch used to convert the GGUF into the same folder at once and fail;
    now the main process converts while the other waits, then both load the folder it wrote."""
    cache, out = tmp_path / "cold-cache", tmp_path / "ddp"
    proc = run_sft(
        smollm2,
        real_spider,
        out,
        "--gguf_file",
        GGUF,
        "--chat_template",
        "true",
        "--max_samples",
        "8",
        "--max_steps",
        "2",
        "--per_device_train_batch_size",
        "2",
        "--base_model_cache",
        str(cache),
        launcher=DDP_LAUNCH,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (meta(out)["world_size"], meta(out)["steps"]) == (2, 2)
    assert [p.name for p in cache.iterdir()] == [gguf_hf_folder(str(smollm2), GGUF, cache).name]  # no leftovers


def test_converted_folder_tokenizes_chat_prompts_like_the_gguf(smollm2, real_spider, tmp_path):
    """The sweep evaluates from the bf16 folder the trainer wrote; its tokenizer must give the same tokens."""
    from transformers import AutoTokenizer

    from tradeoff_tasks.prompts import build_prompt, chat_messages
    from tradeoff_tasks.spider_data import build_rows

    folder = gguf_as_hf_folder(str(smollm2), GGUF, tmp_path)
    from_gguf = AutoTokenizer.from_pretrained(smollm2, gguf_file=GGUF)
    from_folder = AutoTokenizer.from_pretrained(folder)
    rows = build_rows(real_spider, "dev")[::97]
    for row in rows:
        messages = chat_messages(build_prompt(row["question"], row["schema"]))
        expected = from_gguf.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        assert from_folder.apply_chat_template(messages, tokenize=False, add_generation_prompt=True) == expected
        assert from_folder(expected)["input_ids"] == from_gguf(expected)["input_ids"]


def test_gguf_tokenizer_ends_on_the_models_eos(smollm2, tmp_path):
    """transformers hands this GGUF's tokenizer <|im_start|> (its BOS) as EOS; the trainer's tokenizer and the
    converted folder use the model's EOS, <|im_end|>, as the GGUF metadata does."""
    import json
    from pathlib import Path

    from transformers import AutoTokenizer

    from training.model import load_tokenizer

    folder = Path(gguf_as_hf_folder(str(smollm2), GGUF, tmp_path))
    eos_id = json.loads((folder / "config.json").read_text())["eos_token_id"]
    for tokenizer in (load_tokenizer(str(smollm2), GGUF, None, tmp_path), AutoTokenizer.from_pretrained(folder)):
        assert tokenizer.eos_token == "<|im_end|>" and tokenizer.eos_token_id == eos_id == 2
        assert tokenizer.bos_token == "<|im_start|>"
