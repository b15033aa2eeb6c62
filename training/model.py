"""Base model, tokenizer, quantization and LoRA settings for the trainer.

QLoRA (4-bit NF4, double quantization, bf16 compute) when CUDA is present or asked for; plain LoRA on a
float model otherwise. A GGUF base is written once as a plain bf16 HF folder and loaded from there: the
Trainer refuses to train a GGUF-loaded model, and bitsandbytes quantizes float checkpoints, not GGUF.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import torch
from peft import LoraConfig
from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

from training import varlen_attention

DEFAULT_BASE_MODEL_CACHE = "runs/base-models"  # where a GGUF base is written once as a bf16 HF folder


class BaseModelError(ValueError):
    """The base model cannot be had; the message is one line saying how to point at a local one."""


def use_4bit(quantization: str) -> bool:
    if quantization not in ("auto", "4bit", "none"):
        raise ValueError(f"quantization must be auto, 4bit or none, got {quantization!r}")
    return quantization == "4bit" or (quantization == "auto" and torch.cuda.is_available())


def compute_dtype() -> torch.dtype:
    return torch.bfloat16 if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else torch.float32


def lora_config(r: int, alpha: int, dropout: float, target_modules: str | list[str]) -> LoraConfig:
    targets = "all-linear" if target_modules in ("all-linear", ["all-linear"]) else target_modules
    return LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, target_modules=targets, task_type="CAUSAL_LM")


def cast_adapters_to_base_dtype(model: torch.nn.Module) -> torch.dtype:
    """Trainable LoRA weights in the dtype of the frozen floating-point weights (bf16 on a GPU). peft keeps them
    in fp32 on a bf16 base, so every LoRA call casts its input and weights; trl already does this cast for 4-bit
    bases (the QLoRA paper's setting). DoRA magnitudes stay fp32, as trl keeps them (their updates are too small
    for bf16)."""
    base_dtype = next(p.dtype for p in model.parameters() if not p.requires_grad and p.is_floating_point())
    for name, param in model.named_parameters():
        if param.requires_grad and "lora_magnitude_vector" not in name:
            param.data = param.data.to(base_dtype)
    return base_dtype


def bnb_config() -> BitsAndBytesConfig:
    dtype = compute_dtype() if torch.cuda.is_available() else torch.bfloat16
    return BitsAndBytesConfig(
        load_in_4bit=True,
        bnb_4bit_quant_type="nf4",
        bnb_4bit_use_double_quant=True,
        bnb_4bit_compute_dtype=dtype,
        bnb_4bit_quant_storage=dtype,  # storage dtype lets FSDP shard 4-bit weights
    )


def gguf_hf_folder(model_path: str, gguf_file: str, cache_dir: Path) -> Path:
    """Where the GGUF is written as a plain bf16 HF folder: keyed by the file's path and size."""
    source = Path(model_path) / gguf_file
    # v2: the tokenizer's EOS follows the model config (with_model_eos); folders written before are not reused
    key = hashlib.sha256(f"v2:{source.resolve()}:{source.stat().st_size}".encode()).hexdigest()[:16]
    return cache_dir / f"{source.stem}-{key}"


def gguf_as_hf_folder(model_path: str, gguf_file: str, cache_dir: Path) -> str:
    """The GGUF model as a plain bf16 HF folder, written on first use (the trainer and the sweep load model and
    tokenizer from it: it loads in well under a second, the GGUF in ~15 s of dequantization on every load)."""
    target = gguf_hf_folder(model_path, gguf_file, cache_dir)
    if not (target / "config.json").is_file():
        gguf_model = AutoModelForCausalLM.from_pretrained(model_path, gguf_file=gguf_file, dtype=torch.bfloat16)
        config = gguf_model.config
        if hasattr(config, "quantization_config"):  # a GGUF-loaded model refuses save_pretrained
            del config.quantization_config
        plain = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
        plain.load_state_dict(gguf_model.state_dict())
        # A folder of this process's own, renamed into place: another process converting the same GGUF at the
        # same time (two sweeps, or launcher ranks that did not wait) can neither see nor break a half-written one.
        partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
        shutil.rmtree(partial, ignore_errors=True)
        plain.save_pretrained(partial)
        tokenizer = AutoTokenizer.from_pretrained(model_path, gguf_file=gguf_file)
        with_model_eos(tokenizer, config.eos_token_id).save_pretrained(partial)
        try:
            partial.rename(target)
        except OSError:  # another process finished first: its folder is the same conversion
            if not (target / "config.json").is_file():
                raise
            shutil.rmtree(partial, ignore_errors=True)
    return str(target)


def with_model_eos(tokenizer, eos_token_id):
    """The tokenizer with the model's own EOS. transformers (5.17) gives SmolLM2's GGUF tokenizer the BOS token
    <|im_start|> as EOS, while the GGUF metadata and the model config say <|im_end|>; trl would end plain-mode
    completions with the wrong token and lm-eval would stop on it."""
    if isinstance(eos_token_id, int) and tokenizer.eos_token_id != eos_token_id:
        tokenizer.eos_token = tokenizer.convert_ids_to_tokens(eos_token_id)
    return tokenizer


def load_tokenizer(model_path: str, gguf_file: str | None, revision: str | None, cache_dir: Path):
    try:
        if gguf_file:  # from the bf16 folder the model is loaded from too: with the model's EOS, and fast
            return AutoTokenizer.from_pretrained(gguf_as_hf_folder(model_path, gguf_file, cache_dir))
        return AutoTokenizer.from_pretrained(model_path, revision=revision)
    except (OSError, ValueError) as e:
        raise BaseModelError(
            f"base model {model_path!r} could not be loaded ({type(e).__name__}; no hub access here?): set "
            "--model_name_or_path to a local directory (plus --gguf_file for a GGUF file) or use "
            "--config harness_configs/sft_smollm2_135m.yaml"
        ) from None


def load_model(
    model_path: str,
    gguf_file: str | None,
    revision: str | None,
    quantize: bool,
    attn_implementation: str | None,
    cache_dir: Path,
    device_index: int | None,
):
    kwargs = {"revision": revision, "dtype": compute_dtype(), "attn_implementation": attn_implementation}
    if attn_implementation == varlen_attention.NAME:
        varlen_attention.register()
    if gguf_file:  # the Trainer refuses a GGUF-loaded model, and bitsandbytes quantizes float checkpoints only
        model_path, gguf_file = gguf_as_hf_folder(model_path, gguf_file, cache_dir), None
    if quantize:
        kwargs.update(quantization_config=bnb_config(), dtype=bnb_config().bnb_4bit_compute_dtype)
        if device_index is not None:
            kwargs["device_map"] = {"": device_index}  # each DDP rank holds its own 4-bit copy
    return AutoModelForCausalLM.from_pretrained(model_path, gguf_file=gguf_file, **kwargs)
