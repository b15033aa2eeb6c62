#!/usr/bin/env bash
# bash scripts/test.sh — install (scripts/setup.sh) and run the test suite, offline.
# Real-data tests read Spider, MMLU and SmolLM2 from $TRADEOFF_TEST_DATA (default: the folder `shared` beside
# the checkout) and skip with a message where they are absent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest -q -rs "$@"
