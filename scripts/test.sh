#!/usr/bin/env bash
# bash scripts/test.sh — install (scripts/setup.sh) and run the test suite, offline.
# Real-data tests use ../shared (Spider, MMLU, SmolLM2) and skip with a message where it is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest -q -rs "$@"
