#!/usr/bin/env bash
# bash scripts/setup.sh — create .venv if missing and install the pinned project (+ test extra). Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || "${PYTHON:-python3}" -m venv .venv
pip=(.venv/bin/python -m pip install -q --disable-pip-version-check)
"${pip[@]}" torch==2.13.0  # CPU build first: an unpinned torch would pull a multi-GB CUDA build
"${pip[@]}" -e ".[dev]"
