"""QLoRA / LoRA supervised fine-tuning on Spider text-to-SQL, producing an adapter lm-eval loads with peft=.

    accelerate launch training/sft.py --lr 1e-4
    accelerate launch training/sft.py --config harness_configs/sft_smollm2_135m.yaml --lr 2e-4
    accelerate launch --config_file harness_configs/accelerate/multi_gpu.yaml training/sft.py --lr 1e-4

Without --config the defaults come from harness_configs/sft_llama3_8b.yaml (the seed study: Llama-3-8B on
Spider train). Every field of the three argument groups below, and every trl SFTConfig field, can be set in
the YAML or overridden on the command line. Evaluate the result with:

    lm_eval --model hf --model_args pretrained=BASE,peft=OUTPUT_DIR --tasks spider_exec \
        --include_path tradeoff_tasks --metadata '{"spider_dir": "DIR"}'   # + --apply_chat_template if chat_template

The run directory gets run_settings.json at the start, checkpoints while training (a restart resumes from
the last complete one if the settings are unchanged) and, when finished, the adapter and training_meta.json.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "harness_configs" / "sft_llama3_8b.yaml"

# On CPUs with AVX512-BF16, bitsandbytes warns at import that an optional hub-fetched kernel is missing; the
# built-in CPU path it falls back to is what we use, so the warning is only noise on every run.
logging.getLogger("bitsandbytes.backends.cpu.ops").setLevel(logging.ERROR)

from trl import SFTConfig  # noqa: E402 (after quieting bitsandbytes' import-time warning)

from training.model import DEFAULT_BASE_MODEL_CACHE  # noqa: E402


@dataclass
class SpiderArguments:
    spider_dir: str | None = field(default=None, metadata={"help": "Spider directory (default: $SPIDER_DIR)"})
    split: str = field(default="train", metadata={"help": "Spider split to train on"})
    chat_template: bool = field(
        default=False,
        metadata={"help": "train in chat format (the prompt as the user turn); evaluate with --apply_chat_template"},
    )
    sample_rows: int = field(default=0, metadata={"help": "example rows per table in the prompt (as at eval)"})
    eval_fraction: float = field(default=0.02, metadata={"help": "held-out share of the rows for eval loss"})
    max_samples: int | None = field(default=None, metadata={"help": "use only the first N questions"})


@dataclass
class ModelArguments:
    model_name_or_path: str = field(default="meta-llama/Meta-Llama-3-8B", metadata={"help": "hub id or local dir"})
    model_revision: str | None = field(default=None, metadata={"help": "hub revision of the base model"})
    gguf_file: str | None = field(default=None, metadata={"help": "GGUF file inside model_name_or_path"})
    quantization: str = field(
        default="auto",
        metadata={"help": "4bit (QLoRA: NF4, double quant, bf16 compute), none (LoRA), or auto: 4bit iff CUDA"},
    )
    attn_implementation: str | None = field(
        default="sdpa",
        metadata={
            "help": "sdpa, eager, flash_attention_2, or torch_varlen (padding-free batches: torch's flash varlen kernel)"
        },
    )
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target_modules: list[str] = field(default_factory=lambda: ["all-linear"])
    adapters_in_base_dtype: bool = field(
        default=False,
        metadata={
            "help": "keep the LoRA weights in the base model's dtype (bf16 on a GPU) instead of peft's fp32, as trl "
            "already does for 4-bit bases: no casts around every LoRA matmul"
        },
    )
    base_model_cache: str = field(
        default=DEFAULT_BASE_MODEL_CACHE,
        metadata={"help": "where a GGUF base is written once as a plain HF folder for 4-bit loading"},
    )


@dataclass
class TrainingArguments(SFTConfig):
    learning_rate: float = field(default=1e-4, metadata={"aliases": ["--lr"], "help": "peak learning rate"})
    overwrite_output_dir: bool = field(
        default=False,
        metadata={"help": "train again into a directory that holds a finished run (transformers 5 dropped this flag)"},
    )


def build_trainer(spider: SpiderArguments, model_args: ModelArguments, args: TrainingArguments):
    """Data, model and SFTTrainer for one run; also returns its settings and the checkpoint to resume from."""
    import torch
    from accelerate import PartialState
    from accelerate.utils import DistributedType
    from trl import SFTTrainer

    from training import model as base
    from training.data import build_sft_dataset, truncate_tokenized
    from training.run_state import last_complete_checkpoint, prepare_run_dir, run_settings

    state = PartialState()
    if args.output_dir is None:
        args.output_dir = f"runs/sft/{Path(model_args.model_name_or_path).name}-lr{args.learning_rate:g}"
    output_dir = Path(args.output_dir)
    if spider.eval_fraction <= 0:
        args.eval_strategy = "no"

    # A GGUF base is converted into a shared folder on first use: one process per machine writes it while the
    # others wait, then they read it (launched ranks would otherwise all convert into the same folder at once).
    with state.local_main_process_first():
        tokenizer = base.load_tokenizer(
            model_args.model_name_or_path,
            model_args.gguf_file,
            model_args.model_revision,
            Path(model_args.base_model_cache),
        )
    data, data_sha256 = build_sft_dataset(
        spider.spider_dir,
        spider.split,
        spider.chat_template,
        spider.sample_rows,
        spider.eval_fraction,
        spider.max_samples,
        args.seed,
    )
    quantize = base.use_4bit(model_args.quantization)
    settings = run_settings(
        spider, model_args, args, data_sha256, {k: len(v) for k, v in data.items()}, quantize, state.num_processes
    )
    if state.is_main_process:
        prepare_run_dir(output_dir, settings, bool(args.overwrite_output_dir))
    state.wait_for_everyone()
    checkpoint = last_complete_checkpoint(output_dir)

    # DDP: each rank loads its own 4-bit copy onto its GPU. FSDP: no device map; accelerate loads the base on
    # the main process (fsdp_cpu_ram_efficient_loading) and shards it across the ranks.
    fsdp = state.distributed_type == DistributedType.FSDP
    model = base.load_model(
        model_args.model_name_or_path,
        model_args.gguf_file,
        model_args.model_revision,
        quantize,
        model_args.attn_implementation,
        Path(model_args.base_model_cache),
        state.local_process_index if torch.cuda.is_available() and not fsdp else None,
    )
    # Padding-free batches (every question of a batch in one row, no pad tokens): trl refuses max_length there
    # because its collator would not enforce it, so trl gets None and the tokenized rows are cut here instead.
    max_length = args.max_length
    cut_here = bool(args.padding_free and not args.packing and max_length)
    if cut_here:
        args.max_length = None
    trainer = SFTTrainer(
        model=model,
        args=args,
        train_dataset=data["train"],
        eval_dataset=data.get("eval"),
        processing_class=tokenizer,
        peft_config=base.lora_config(
            model_args.lora_r, model_args.lora_alpha, model_args.lora_dropout, model_args.lora_target_modules
        ),
    )
    if model_args.adapters_in_base_dtype:
        base.cast_adapters_to_base_dtype(trainer.model)
    if cut_here:
        args.max_length = max_length
        keep_end = args.truncation_mode == "keep_end"
        trainer.train_dataset = truncate_tokenized(trainer.train_dataset, max_length, keep_end)
        if trainer.eval_dataset is not None:
            trainer.eval_dataset = truncate_tokenized(trainer.eval_dataset, max_length, keep_end)
    return trainer, settings, checkpoint


def train(spider: SpiderArguments, model_args: ModelArguments, args: TrainingArguments) -> Path:
    from tradeoff_tasks.records import hardware, library_versions, write_json_atomically
    from training.run_state import META_FILE, report_truncation, throughput

    trainer, settings, checkpoint = build_trainer(spider, model_args, args)
    truncation = report_truncation(trainer, settings["rows"]["train"], args.max_length)
    output_dir = Path(args.output_dir)
    started = time.time()
    result = trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    if trainer.is_fsdp_enabled:  # the adapter as one plain file that peft= loads, not as per-rank shards
        trainer.accelerator.state.fsdp_plugin.set_state_dict_type("FULL_STATE_DICT")
    trainer.save_model(str(output_dir))
    if trainer.accelerator.is_main_process:
        meta = dict(
            settings,
            spider_dir=str(spider.spider_dir),
            output_dir=str(output_dir),
            steps=trainer.state.global_step,
            epochs=trainer.state.epoch,
            loaded_in_4bit=bool(getattr(trainer.model, "is_loaded_in_4bit", False)),
            **truncation,
            resumed=checkpoint is not None,
            resumed_from=str(checkpoint) if checkpoint else None,
            wall_time_s=round(time.time() - started, 1),
            loss_history=trainer.state.log_history,
            throughput=throughput(trainer, result.metrics),
            libraries=library_versions(),
            hardware=hardware(),
            world_size=trainer.accelerator.num_processes,
            distributed_type=str(trainer.accelerator.distributed_type),
            command=" ".join(sys.argv),
        )
        write_json_atomically(output_dir / META_FILE, meta)  # written last: its presence means finished
        print(f"adapter and {META_FILE} written to {output_dir}")
    return output_dir


def parse(argv: list[str]) -> tuple[SpiderArguments, ModelArguments, TrainingArguments]:
    from trl import TrlParser

    if "--config" not in argv:
        argv = ["--config", str(DEFAULT_CONFIG)] + argv
    config = Path(argv[argv.index("--config") + 1])
    if not config.is_file():
        raise ValueError(f"--config {config}: file not found")
    import os

    import torch

    if not torch.cuda.is_available():  # the GPU configs ask for bf16, which the Trainer refuses on a CPU
        argv = argv + ["--bf16", "false"]
        os.environ.setdefault("ACCELERATE_USE_CPU", "true")  # lets torchrun / accelerate launch run DDP over gloo
    parser = TrlParser((SpiderArguments, ModelArguments, TrainingArguments))
    return parser.parse_args_and_config(argv)


def main(argv: list[str] | None = None) -> int:
    from tradeoff_tasks.spider_data import SpiderDataError
    from training.model import BaseModelError
    from training.run_state import RunStateError

    try:
        spider, model_args, args = parse(list(sys.argv[1:] if argv is None else argv))
    except ValueError as e:  # unknown config keys, bad values, a missing config file
        print(f"sft.py: {str(e).splitlines()[0]}", file=sys.stderr)
        return 2
    try:
        train(spider, model_args, args)
    except (SpiderDataError, BaseModelError, RunStateError) as e:
        print(f"sft.py: {str(e).splitlines()[0]}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
