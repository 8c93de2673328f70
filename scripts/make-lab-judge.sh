#!/usr/bin/env bash
# Rebuilds models/lab-judge.gguf from the shipped lab policy with the stepwise CLI alone:
# lab generate (train split) → sample → threshold → split (newline and adaptive) → lab train-judge
# (the policy fine-tuned on exact first-error labels to write "0 ok / 1 bad / \boxed{1}").
# Every stage resumes: a killed run continues when started again (training from its checkpoint).
#   scripts/make-lab-judge.sh [WORKDIR] [STEPS=400] [OUT=models/lab-judge.gguf]
# Environment: PROBLEMS (659), SAMPLES per problem (4), POLICY (models/lab-policy.gguf),
# BATCH (8), SEED (0). The shipped model is this script's defaults run once from scratch
# (2,636 samples, 400 steps of 8 items, ~50 min on a shared 2-core machine; models/lab-judge.train.json).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-.stepwise-cache/lab-judge}
steps=${2:-400}
out=${3:-models/lab-judge.gguf}
problems=${PROBLEMS:-659}
n=${SAMPLES:-4}
policy=${POLICY:-models/lab-policy.gguf}
sw="node bin/stepwise.mjs"
mkdir -p "$work"

[ -s "$work/problems.jsonl" ] || $sw lab generate --n "$problems" --split train --seed 21 --out "$work/problems.jsonl"
$sw sample --engine llama:$policy --data "$work/problems.jsonl" --n "$n" --max-tokens 200 --top-logprobs 0 --seed 21 --out "$work/samples.jsonl"
[ -s "$work/threshold.json" ] || $sw threshold --samples "$work/samples.jsonl" --out "$work/threshold.json"
$sw split --samples "$work/samples.jsonl" --strategy newline --out "$work/steps-newline.jsonl"
$sw split --samples "$work/samples.jsonl" --strategy adaptive --threshold "$work/threshold.json" --out "$work/steps-adaptive.jsonl"
resume=()
[ -s "$work/train/checkpoint.bin" ] && resume=(--resume)
$sw lab train-judge --data "$work/steps-newline.jsonl" --data "$work/steps-adaptive.jsonl" --init "$policy" --out "$out" \
    --steps "$steps" --batch "${BATCH:-8}" --seed "${SEED:-0}" --checkpoint-every 25 --checkpoint-dir "$work/train" "${resume[@]}"
