"""A small GSM8K-format sample for the offline demo and the tests: no package registry carries GSM8K's data.

Made-up grade-school word problems in the release's layout (train.jsonl and test.jsonl, fields question and
answer; the answer is a worked solution with <<calculator>> annotations that ends in `#### <number>`), so
`tradeoff prepare-probes --gsm8k FOLDER` and the harness's gsm8k task read it exactly as they read the release.
Scores on it say nothing about GSM8K; it only exercises the pipeline.

python -m tradeoff.gsm8k_sample OUT_DIR
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

NAMES = ("Ava", "Ben", "Chen", "Dana", "Eli", "Fatima", "Goro", "Hana", "Ivan", "Jia")
ITEMS = ("apples", "pencils", "stickers", "marbles", "books", "cookies", "stamps", "shells")


def problem(rng: random.Random) -> dict:
    name, item = rng.choice(NAMES), rng.choice(ITEMS)
    have, buy, packs, give = rng.randint(2, 30), rng.randint(2, 9), rng.randint(2, 6), rng.randint(1, 10)
    bought = buy * packs
    total = have + bought
    left = total - give
    question = (
        f"{name} has {have} {item}. {name} buys {packs} packs of {item} with {buy} {item} in each pack, "
        f"then gives {give} {item} to a friend. How many {item} does {name} have now?"
    )
    answer = (
        f"{name} buys {packs} * {buy} = <<{packs}*{buy}={bought}>>{bought} {item}.\n"
        f"So {name} has {have} + {bought} = <<{have}+{bought}={total}>>{total} {item}.\n"
        f"After giving {give} away, {name} has {total} - {give} = <<{total}-{give}={left}>>{left} {item}.\n"
        f"#### {left}"
    )
    return {"question": question, "answer": answer}


def write_gsm8k_sample(out_dir: Path, n_train: int = 40, n_test: int = 20, seed: int = 0) -> Path:
    rng = random.Random(seed)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", n_train), ("test", n_test)):
        rows = [problem(rng) for _ in range(n)]
        (out_dir / f"{split}.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    return out_dir


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m tradeoff.gsm8k_sample OUT_DIR")
    print(write_gsm8k_sample(Path(sys.argv[1])))
