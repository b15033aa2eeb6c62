#!/usr/bin/env bash
# The GPU benchmarks on the device machine, after ../shared/tools/devpack's three staging calls:
#   bash scripts/device_bench.sh eval|trainer-8b|trainer-smollm2 SECONDS [VARIANT ...]
# (inside a device-tool call, which sets $OUT). Runs one benchmark for at most SECONDS, writing its JSON (after
# every variant, so a cut-off run keeps what finished), its console output and any logs/profiles to $OUT.
# VARIANTs are NAME=FLAGS as the benchmark takes them (defaults below). Examples:
#   bash scripts/device_bench.sh eval 300 "b1024=--batch_size 1024"
#   bash scripts/device_bench.sh trainer-8b 540 stock config "ckpt=--gradient_checkpointing true"
# Environment: PROFILE_STEPS=N adds a torch.profiler table per training variant; EXAMPLES=N changes the 8B
# benchmark's 320 questions (7000: a whole epoch, for its peak memory); EXTRA_MODEL_ARGS=k=v,... goes into every
# evaluation's --model_args.
set -uo pipefail
what=${1:?eval, trainer-8b or trainer-smollm2}
budget=${2:-540}
shift 2 || shift $#
export PYTHONPATH=/tmp/site:$PWD HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1
export PYTORCH_CUDA_ALLOC_CONF=${PYTORCH_CUDA_ALLOC_CONF:-expandable_segments:True}
gguf_dir=/tmp/models/smollm2-135m-instruct
gguf=SmolLM2-135M-Instruct.Q4_1.gguf
spider=/tmp/data/spider
# the bf16 HF folder of the GGUF (lm-eval and the 8B model's tokenizer need one); written once per machine
converted=$(python3 -c "import sys; from pathlib import Path; from training.model import gguf_as_hf_folder
print(gguf_as_hf_folder(sys.argv[1], sys.argv[2], Path('/tmp/conv')))" "$gguf_dir" "$gguf" 2>/dev/null | tail -n 1)
[ -d "$converted" ] || { echo "device_bench: no converted SmolLM2 under /tmp/conv: stage the devpack first" >&2; exit 2; }
started=$(date +%s)
# bench_trainer.py for at most SECONDS into $OUT/NAME.json and .log: bench_trainer NAME SECONDS FLAGS... (variants last)
bench_trainer() {
  local name=$1 seconds=$2
  shift 2
  timeout "$seconds" python3 benchmarks/bench_trainer.py --spider_dir "$spider" --json "$OUT/$name.json" \
    ${PROFILE_STEPS:+--profile_steps "$PROFILE_STEPS" --profile_dir "$OUT/profiles"} "$@" 2>&1 \
    | grep -v '^ ' | tee "$OUT/$name.log"
}
case "$what" in
  eval)
    [ $# -gt 0 ] || set -- "b1024=--batch_size 1024"
    timeout "$budget" python3 benchmarks/bench_spider_eval.py --model "$converted" --spider_dir "$spider" \
      ${EXTRA_MODEL_ARGS:+--extra_model_args "$EXTRA_MODEL_ARGS"} --json "$OUT/eval.json" --logs "$OUT/eval-logs" \
      --variants "$@" 2>&1 | tee "$OUT/eval.log" ;;
  trainer-8b)
    [ $# -gt 0 ] || set -- stock config
    [ -f /tmp/llama8b/config.json ] || python3 benchmarks/random_llama.py /tmp/llama8b --shape llama3-8b \
      --tokenizer "$converted" > "$OUT/random_llama.log" 2>&1
    bench_trainer trainer-8b $(( budget - ($(date +%s) - started) )) --config harness_configs/sft_llama3_8b.yaml \
      --model /tmp/llama8b --examples "${EXAMPLES:-320}" --variants "$@" ;;
  trainer-smollm2)
    [ $# -gt 0 ] || set -- config
    bench_trainer trainer-smollm2 "$budget" --config harness_configs/sft_smollm2_135m.yaml --model "$gguf_dir" \
      --examples 6860 --warmup 5 --variants "$@" ;;
  *) echo "device_bench: unknown benchmark '$what' (eval, trainer-8b, trainer-smollm2)" >&2; exit 2 ;;
esac
echo "device_bench: $what took $(( $(date +%s) - started )) s"
