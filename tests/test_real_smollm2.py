"""The real SmolLM2-135M-Instruct GGUF from ../shared: QLoRA on real Spider (CPU, a few steps), then lm-eval."""

import pytest

from tests.conftest import SHARED
from tests.lm_eval_cli import run_spider_exec
from tests.training_runs import meta, run_sft

MODEL_DIR = SHARED / "models" / "smollm2-135m-instruct"
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


@pytest.fixture(scope="module")
def smollm2():
    if not (MODEL_DIR / GGUF).is_file():
        pytest.skip(f"SmolLM2 GGUF not found at {MODEL_DIR / GGUF} (../shared is absent)")
    return MODEL_DIR


def test_gguf_base_is_fine_tuned_in_4bit_and_evaluated_with_the_adapter(smollm2, real_spider, tmp_path):
    out = tmp_path / "adapter"
    proc = run_sft(smollm2, real_spider, out, "--gguf_file", GGUF, "--quantization", "4bit", "--chat_template",
                   "true", "--max_samples", "8", "--max_steps", "2", "--per_device_train_batch_size", "2",
                   "--logging_steps", "1", "--base_model_cache", str(tmp_path / "base-cache"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    info = meta(out)
    assert info["loaded_in_4bit"] is True and info["gguf_file"] == GGUF and info["steps"] == 2
    assert list((tmp_path / "base-cache").glob("SmolLM2-135M-Instruct.Q4_1-*/config.json"))
    results = run_spider_exec(f"pretrained={smollm2},gguf_file={GGUF},peft={out},dtype=float32", real_spider,
                              tmp_path / "eval", 2, "--apply_chat_template")
    assert len(results["samples"]) == 2
