#!/usr/bin/env bash
# One piece of a study on the GPU machine, after ../shared/tools/devpack's three staging calls:
#   bash scripts/device_sweep.sh [STUDY.yaml] [SECONDS]      (inside a device-tool call, which sets $OUT)
# Runs `tradeoff sweep` for at most SECONDS (default 540, under the tool's 600 s per call), then stops the
# whole process tree (the step it was in is redone next time: training resumes from its last checkpoint, an
# evaluation starts again) and packs the study's results folder into $OUT/study-results.part.* (a split .tar.gz).
# The next call on the still-warm machine continues where this one stopped; /tmp survives between calls.
set -uo pipefail
study=${1:-harness_configs/study_smollm2_spider_devpack.yaml}
budget=${2:-540}
export PYTHONPATH=/tmp/site:$PWD HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
# several steps may share the card (study `jobs`): give freed memory back between them instead of fragmenting it
export PYTORCH_CUDA_ALLOC_CONF=${PYTORCH_CUDA_ALLOC_CONF:-expandable_segments:True}
results=$(python3 -c "import sys; from tradeoff.study import load_study; print(load_study(sys.argv[1]).results)" "$study")

setsid python3 -m tradeoff.cli sweep "$study" > "$OUT/sweep.log" 2>&1 &
sweep=$!
( sleep "$budget"; kill -TERM -- "-$sweep" 2>/dev/null; sleep 5; kill -KILL -- "-$sweep" 2>/dev/null ) &
watchdog=$!
wait "$sweep"; rc=$?
pkill -P "$watchdog" 2>/dev/null; kill "$watchdog" 2>/dev/null
tail -n 25 "$OUT/sweep.log"
# one archive, in pieces under the tool's per-file limit: cat "$OUT"/study-results.part.* | tar -xz
tar -czf - -C "$(dirname "$results")" "$(basename "$results")" | split -b 15m - "$OUT/study-results.part."
echo "sweep exit $rc; results packed from $results"
