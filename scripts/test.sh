#!/usr/bin/env bash
# bash scripts/test.sh [PYTEST ARGS] — install (scripts/setup.sh), lint (ruff), and run the test suite offline.
# Real-data tests read Spider, MMLU and SmolLM2 from $TRADEOFF_TEST_DATA (default: the folder `shared` beside
# the checkout) and skip with a message where they are absent. `-m "not slow"` skips the end-to-end runs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest -q -rs --durations=15 "$@"  # the slowest tests listed: the suite must stay fast
