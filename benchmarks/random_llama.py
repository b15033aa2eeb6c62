"""Write a random-init Llama of a real model's shape (no weights needed) for throughput work.

    python -m benchmarks.random_llama OUT_DIR --shape llama3-8b --tokenizer DIR [--gguf_file FILE]

The tokenizer is copied from DIR (token ids only need to fit in the vocabulary). The model is initialised on
the GPU when there is one (an 8B model initialises in seconds there, minutes on a CPU) and saved in bf16.
"""

from __future__ import annotations

import argparse

import torch
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

SHAPES = {
    "llama3-8b": dict(
        hidden_size=4096,
        num_hidden_layers=32,
        intermediate_size=14336,
        num_attention_heads=32,
        num_key_value_heads=8,
        vocab_size=128256,
        rope_theta=500000.0,
        max_position_embeddings=8192,
    ),
    "tiny": dict(
        hidden_size=64,
        num_hidden_layers=2,
        intermediate_size=128,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=49152,
        max_position_embeddings=2048,
    ),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="llama3-8b")
    parser.add_argument("--tokenizer", required=True, help="directory (or hub id) of a tokenizer to copy")
    parser.add_argument("--gguf_file", default=None, help="GGUF file in --tokenizer holding the tokenizer")
    args = parser.parse_args()
    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer, gguf_file=args.gguf_file)
    config = LlamaConfig(
        **SHAPES[args.shape],
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=False,
    )
    if len(tokenizer) > config.vocab_size:
        raise SystemExit(f"--tokenizer has {len(tokenizer)} tokens, more than the {args.shape} vocabulary")
    torch.manual_seed(0)
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        model = LlamaForCausalLM(config).to(torch.bfloat16)
    model.save_pretrained(args.out_dir)
    tokenizer.save_pretrained(args.out_dir)
    print(f"{args.shape}: {sum(p.numel() for p in model.parameters()) / 1e9:.2f}B parameters -> {args.out_dir}")


if __name__ == "__main__":
    main()
