"""How many tokens the largest padding-free batch of an epoch holds: what peak training memory scales with.

    python -m benchmarks.batch_tokens --tokenizer runs/base-models/<converted SmolLM2> \
        --spider_dir data/spider --batch_size 16 --sample 320

Without activation recomputation, peak memory grows with the tokens of the largest micro-batch. A benchmark
times a sample; this prints the largest batch's tokens over many random orders, for the sample and for the
whole training set, so a peak measured on the sample can be scaled to a full epoch. Token counts are
prompt + SQL + EOS in the given tokenizer (prompts from the same module as training).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def question_lengths(tokenizer_dir: str, spider_dir: str, chat: bool) -> np.ndarray:
    from transformers import AutoTokenizer

    from training.data import build_sft_dataset

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir)
    rows = build_sft_dataset(spider_dir, "train", chat=chat, eval_fraction=0)[0]["train"]
    if chat:
        texts = [
            tokenizer.apply_chat_template(p + c, tokenize=False)
            for p, c in zip(rows["prompt"], rows["completion"], strict=True)
        ]
    else:
        texts = [p + c for p, c in zip(rows["prompt"], rows["completion"], strict=True)]
    return np.array([len(ids) + 1 for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]])


def largest_batch(lengths: np.ndarray, batch_size: int, orders: int, rng) -> np.ndarray:
    """The largest batch's token count in each of `orders` random orders (full batches only)."""
    usable = len(lengths) // batch_size * batch_size
    return np.array([rng.permutation(lengths)[:usable].reshape(-1, batch_size).sum(1).max() for _ in range(orders)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokenizer", required=True, help="model or tokenizer directory")
    parser.add_argument("--spider_dir", required=True)
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--sample", type=int, default=320, help="questions in the benchmark's sample")
    parser.add_argument("--orders", type=int, default=200, help="random orders to draw")
    parser.add_argument("--chat_template", action="store_true")
    args = parser.parse_args()
    lengths = question_lengths(args.tokenizer, args.spider_dir, args.chat_template)
    rng = np.random.default_rng(0)
    print(
        f"{len(lengths)} questions: {lengths.mean():.0f} tokens on average, median {np.median(lengths):.0f}, "
        f"max {lengths.max()}"
    )
    for name, pool in (("sample", rng.permutation(lengths)[: args.sample]), ("epoch", lengths)):
        p5, p50, p95, top = np.percentile(largest_batch(pool, args.batch_size, args.orders, rng), [5, 50, 95, 100])
        print(
            f"{name:>6} ({len(pool)} questions): largest batch of {args.batch_size} holds {p50:,.0f} tokens "
            f"(median over {args.orders} orders; 5-95%: {p5:,.0f}-{p95:,.0f}; max {top:,.0f})"
        )


if __name__ == "__main__":
    main()
