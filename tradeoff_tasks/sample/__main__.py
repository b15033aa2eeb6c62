"""python -m tradeoff_tasks.sample OUT_DIR: write the Spider-format sample into OUT_DIR."""

import sys

from .build import build_sample

if len(sys.argv) != 2:
    sys.exit("usage: python -m tradeoff_tasks.sample OUT_DIR")
print(build_sample(sys.argv[1]))
