"""Is grouped-query decoding as accurate as transformers' sdpa? Both against a float32 reference.

    python -m benchmarks.decode_agreement --model /tmp/study/base-models/<converted> --spider_dir /tmp/data/spider \
        --batch_size 256 --tokens 64

Greedy decoding in bf16 drifts from float32 after enough tokens whatever the kernel, so two bf16 kernels give
different texts for some rows; the question is whether one drifts more. Takes the `--batch_size` longest dev
prompts (left-padded as lm-eval does), generates `--tokens` greedily with a static cache in float32 with
transformers' sdpa (the reference), then in bf16 with transformers' sdpa and with tradeoff_tasks.grouped_decode,
and prints for each bf16 run how many rows match the reference entirely and the mean number of leading tokens
that match it.
"""

from __future__ import annotations

import argparse

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

from benchmarks.profile_generation import longest_batch
from tradeoff_tasks.grouped_decode import use_grouped_decode


def greedy(model, batch: dict, tokens: int, pad_id: int) -> torch.Tensor:
    config = GenerationConfig(
        max_new_tokens=tokens,
        min_new_tokens=tokens,
        do_sample=False,
        pad_token_id=pad_id,
        cache_implementation="static",
        disable_compile=True,
    )
    with torch.no_grad():
        return model.generate(**batch, generation_config=config)[:, batch["input_ids"].shape[1] :]


def agreement(tokens: torch.Tensor, reference: torch.Tensor) -> tuple[int, float]:
    same = (tokens == reference).int()
    leading = same.cumprod(dim=1).sum(dim=1).float()  # matching tokens before the first difference
    return int((leading == reference.shape[1]).sum()), float(leading.mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--spider_dir", required=True)
    parser.add_argument("--batch_size", type=int, default=256)
    parser.add_argument("--tokens", type=int, default=64)
    args = parser.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    batch = longest_batch(tokenizer, args.spider_dir, args.batch_size, device)
    model = AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32, attn_implementation="sdpa")
    model = model.to(device).eval()
    reference = greedy(model, batch, args.tokens, tokenizer.pad_token_id)
    model = model.to(torch.bfloat16)
    for label, grouped in (("transformers sdpa, bf16", False), ("grouped_decode, bf16", True)):
        use_grouped_decode(grouped)
        rows, leading = agreement(greedy(model, batch, args.tokens, tokenizer.pad_token_id), reference)
        print(
            f"{label}: {rows} of {len(reference)} rows equal the float32 reference over {args.tokens} tokens; "
            f"{leading:.1f} leading tokens equal on average",
            flush=True,
        )


if __name__ == "__main__":
    main()
