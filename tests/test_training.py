"""training/sft.py on CPU: learning, label masking, resume, QLoRA, DDP and bad inputs."""

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from safetensors.torch import load_file

from tests.conftest import ROOT
from tests.training_runs import TINY_CONFIG, losses, meta, run_sft, sft_command


@pytest.fixture(scope="module")
def trained(tiny_model, sample_spider, tmp_path_factory):
    out = tmp_path_factory.mktemp("sft") / "run"
    proc = run_sft(tiny_model, sample_spider, out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


@pytest.mark.slow
def test_tiny_model_learns_and_the_run_is_documented(trained, sample_spider):
    history = losses(trained)
    assert history[-1] < 0.7 * history[0], history  # a memorisable set: the loss must fall clearly
    info = meta(trained)
    assert info["learning_rate"] == 1e-2 and info["seed"] == 7 and info["steps"] == 40
    assert info["rows"] == {"train": 16} and len(info["data_sha256"]) == 64
    assert info["quantization"] == "none" and info["loaded_in_4bit"] is False
    assert info["lora"] == {
        "r": 8,
        "alpha": 16,
        "dropout": 0.0,
        "target_modules": ["all-linear"],
        "in_base_dtype": False,
    }
    assert info["effective_batch_size"] == 4 and info["resumed"] is False and info["wall_time_s"] > 0
    assert {"torch", "transformers", "peft", "trl"} <= set(info["libraries"])
    assert (trained / "adapter_model.safetensors").is_file() and (trained / "adapter_config.json").is_file()
    assert list((trained / "runs").rglob("events.out.tfevents.*")), "tensorboard logs missing"


def test_labels_mask_every_prompt_token(tiny_model, sample_spider, tmp_path):
    from training.sft import build_trainer, parse

    spider, model_args, args = parse(
        [
            "--config",
            str(TINY_CONFIG),
            "--model_name_or_path",
            str(tiny_model),
            "--spider_dir",
            str(sample_spider),
            "--output_dir",
            str(tmp_path / "o"),
        ]
    )
    trainer, _, _ = build_trainer(spider, model_args, args)
    batch = next(iter(trainer.get_train_dataloader()))
    tokenizer = trainer.processing_class
    n_checked = 0
    for input_ids, labels in zip(batch["input_ids"].tolist(), batch["labels"].tolist(), strict=True):
        text = tokenizer.decode(input_ids)
        prompt_end = text.index("### SQL\n") + len("### SQL\n")
        n_prompt = len(tokenizer(text[:prompt_end])["input_ids"])
        assert all(label == -100 for label in labels[:n_prompt])  # every prompt token is masked
        completion = [label for label in labels[n_prompt:] if label != -100]
        assert completion and tokenizer.decode(completion).endswith(tokenizer.eos_token)
        n_checked += 1
    assert n_checked == args.per_device_train_batch_size


def _wait_for_checkpoint(out, proc, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any((c / "trainer_state.json").is_file() for c in out.glob("checkpoint-*")):
            return
        assert proc.poll() is None, "training ended before its first checkpoint"
        time.sleep(0.01)
    raise AssertionError("no checkpoint appeared")


@pytest.mark.slow
def test_kill_after_checkpoint_then_resume_gives_a_bit_identical_adapter(trained, tiny_model, sample_spider, tmp_path):
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        sft_command(tiny_model, sample_spider, out),
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for_checkpoint(out, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "training_meta.json").exists()

    changed = run_sft(tiny_model, sample_spider, out, "--lr", "5e-3")
    assert changed.returncode == 2
    assert "refusing to resume, settings differ from the interrupted run (learning_rate)" in changed.stderr

    resumed = run_sft(tiny_model, sample_spider, out)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert meta(out)["resumed"] is True
    reference, result = load_file(trained / "adapter_model.safetensors"), load_file(out / "adapter_model.safetensors")
    assert reference.keys() == result.keys()
    assert all((reference[k] == result[k]).all() for k in reference), "resumed adapter differs"


@pytest.mark.slow
def test_a_finished_run_is_not_overwritten_unless_asked(trained, tiny_model, sample_spider, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(trained, out)
    proc = run_sft(tiny_model, sample_spider, out)
    assert proc.returncode == 2 and "a finished run is already there" in proc.stderr
    again = run_sft(tiny_model, sample_spider, out, "--overwrite_output_dir", "true", "--max_steps", "2")
    assert again.returncode == 0, again.stderr[-3000:]
    assert meta(out)["steps"] == 2


@pytest.mark.slow
@pytest.mark.parametrize("padding_free", ["false", "true"])
def test_examples_longer_than_max_length_are_counted_and_reported(tiny_model, sample_spider, tmp_path, padding_free):
    """trl drops an example whose prompt alone fills max_length and cuts the SQL of others: never silently.
    Padding-free batches, where trl leaves max_length to us, lose exactly the same."""
    out = tmp_path / "short"
    proc = run_sft(
        tiny_model,
        sample_spider,
        out,
        "--max_length",
        "195",
        "--max_steps",
        "1",
        "--save_strategy",
        "no",
        "--padding_free",
        padding_free,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    info = meta(out)
    dropped = info["train_examples"] - info["train_examples_used"]
    assert info["train_examples"] == 16 and dropped > 0 and info["train_examples_truncated"] > 0
    assert (
        f"of 16 training examples {dropped} were dropped (prompt longer than max_length=195) and "
        f"{info['train_examples_truncated']} cut short" in proc.stderr
    )
    assert info["padding_free"] is (padding_free == "true") and info["max_length"] == 195
    assert (dropped, info["train_examples_truncated"]) == (7, 7)  # the same for both batch layouts
    assert (
        "were dropped"
        not in run_sft(
            tiny_model, sample_spider, tmp_path / "full", "--max_steps", "1", "--save_strategy", "no"
        ).stderr
    )


def test_padding_free_batches_give_the_padded_loss(tiny_model, sample_spider, tmp_path, monkeypatch):
    """One row holding every question of the batch (no pad tokens) must score each question alone: with sdpa,
    transformers builds a block-diagonal mask from the restarting position_ids; torch_varlen attends per sequence
    from trl's cu_seq_lens. Cross-attention between the questions would change the loss."""
    from collections import Counter

    import torch

    from training import varlen_attention
    from training.sft import build_trainer, parse

    monkeypatch.setattr(varlen_attention, "calls", Counter())
    layouts = {}
    for padding_free, attention in (("false", "sdpa"), ("true", "sdpa"), ("true", "torch_varlen")):
        spider, model_args, args = parse(
            [
                "--config",
                str(TINY_CONFIG),
                "--model_name_or_path",
                str(tiny_model),
                "--spider_dir",
                str(sample_spider),
                "--output_dir",
                str(tmp_path / "o"),
                "--padding_free",
                padding_free,
                "--attn_implementation",
                attention,
                "--overwrite_output_dir",
                "true",
            ]
        )
        trainer, _, _ = build_trainer(spider, model_args, args)
        batch = trainer.data_collator([trainer.train_dataset[i] for i in range(4)])
        trainer.model.eval()
        with torch.no_grad():
            layouts[attention, padding_free] = (
                trainer.compute_loss(trainer.model, batch).item(),
                batch["input_ids"].shape,
            )
    (padded_loss, padded_shape), (free_loss, free_shape) = layouts["sdpa", "false"], layouts["sdpa", "true"]
    assert padded_shape[0] == 4 and free_shape[0] == 1 and free_shape[1] < 4 * padded_shape[1]  # padding was there
    assert free_loss == pytest.approx(padded_loss, rel=1e-4)
    assert layouts["torch_varlen", "true"][0] == pytest.approx(padded_loss, rel=1e-4)
    assert varlen_attention.calls == {"per_sequence_sdpa": trainer.model.config.num_hidden_layers}  # no fallback


def test_adapters_in_base_dtype_are_bf16_on_a_bf16_base_and_still_train(tiny_model):
    """peft keeps LoRA weights in fp32 on a bf16 base; --adapters_in_base_dtype makes them bf16 (only them)."""
    import torch
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM

    from training.model import cast_adapters_to_base_dtype, lora_config

    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.bfloat16), lora_config(8, 16, 0.0, ["all-linear"])
    )
    trainable = {n: p for n, p in model.named_parameters() if p.requires_grad}
    assert trainable and {p.dtype for p in trainable.values()} == {torch.float32}  # peft's default
    assert cast_adapters_to_base_dtype(model) == torch.bfloat16
    assert {p.dtype for n, p in model.named_parameters()} == {torch.bfloat16}
    assert {n for n, p in model.named_parameters() if p.requires_grad} == set(trainable)
    model(input_ids=torch.tensor([[1, 2, 3, 4]]), labels=torch.tensor([[1, 2, 3, 4]])).loss.backward()
    assert all(p.grad is not None and p.grad.dtype == torch.bfloat16 for p in trainable.values())


@pytest.mark.slow
def test_qlora_code_path_runs_on_cpu(tiny_model, sample_spider, tmp_path):
    out = tmp_path / "qlora"
    proc = run_sft(
        tiny_model, sample_spider, out, "--quantization", "4bit", "--max_steps", "3", "--logging_steps", "1"
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    info = meta(out)
    assert info["quantization"] == "4bit-nf4-double-quant" and info["loaded_in_4bit"] is True
    assert len(losses(out)) == 3


@pytest.mark.slow
@pytest.mark.parametrize(
    "extra, message",
    [
        (("--bogus_key", "1"), "bogus_key"),
        (("--spider_dir", "/nonexistent/spider"), "/nonexistent/spider: not a Spider directory"),
        (("--model_name_or_path", "no-such-org/no-such-model"), "could not be loaded"),
    ],
)
def test_bad_inputs_get_one_line_and_exit_2(tiny_model, sample_spider, tmp_path, extra, message):
    proc = run_sft(tiny_model, sample_spider, tmp_path / "bad", *extra)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert not (tmp_path / "bad" / "training_meta.json").exists()


@pytest.mark.slow
def test_unknown_key_in_a_config_file_is_refused(tiny_model, sample_spider, tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text(TINY_CONFIG.read_text() + "\nnot_a_setting: 3\n")
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "training" / "sft.py"),
            "--config",
            str(config),
            "--model_name_or_path",
            str(tiny_model),
            "--spider_dir",
            str(sample_spider),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "not_a_setting" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_the_trained_adapter_is_evaluated_by_lm_eval_with_peft(trained, tiny_model, sample_spider, tmp_path):
    from tests.lm_eval_cli import run_spider_exec

    results = run_spider_exec(f"pretrained={tiny_model},peft={trained},dtype=float32", sample_spider, tmp_path / "r")
    assert results["results"]["spider_exec"]["exec_match,exec"] >= 0.0
    assert results["config"]["model_args"]["peft"] == str(trained)


@pytest.mark.parametrize("config", sorted((ROOT / "harness_configs").glob("sft_*.yaml")), ids=lambda p: p.name)
def test_every_shipped_training_config_parses(config):
    """A typo'd key or value in a config would otherwise surface only on the GPU machine."""
    from training.sft import parse

    spider, model_args, args = parse(["--config", str(config)])
    assert args.learning_rate > 0 and args.max_length and model_args.lora_r > 0
    if config.name == "sft_llama3_8b.yaml":  # the measured setting of results/benchmarks.md
        assert args.padding_free and not args.gradient_checkpointing and args.per_device_train_batch_size == 16
