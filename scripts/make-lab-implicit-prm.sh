#!/usr/bin/env bash
# Rebuilds models/lab-implicit-prm.gguf from the shipped lab policy with the stepwise CLI alone:
# sample (8 per problem, the policy's own confidences recorded) → train-prm --objective implicit
# (outcome labels from the lab's exact answer check; no rollouts, no step labels).
# The samples are the first problems of scripts/make-lab-tag-prm.sh's problem file (same seed), so the
# two recipes can share a work folder. Every stage resumes, so a killed run continues when started again.
#   scripts/make-lab-implicit-prm.sh [WORKDIR] [MINUTES=20] [OUT=models/lab-implicit-prm.gguf]
# Environment: LIMIT (627 problems sampled), SAMPLES per problem (8), POLICY (models/lab-policy.gguf),
# BETA (0.05), LR (3e-4), STEPS (400: after the MINUTES run, training resumes to this many steps).
# The shipped file: the MINUTES=20 run's schedule came to 198 steps on the shared 2-core machine,
# then it was resumed to 400 steps (35 minutes in all); on another machine the first schedule differs.
# The PRM's GGUF names its reference (the policy) by a path relative to itself: keep them side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-.stepwise-cache/lab-prm}
minutes=${2:-20}
out=${3:-models/lab-implicit-prm.gguf}
limit=${LIMIT:-627}
n=${SAMPLES:-8}
policy=${POLICY:-models/lab-policy.gguf}
node scripts/ensure-deps.mjs
sw="node bin/stepwise.mjs"
mkdir -p "$work"

[ -s "$work/problems.jsonl" ] || $sw lab generate --n 1200 --split train --seed 11 --out "$work/problems.jsonl"
$sw sample --engine llama:$policy --data "$work/problems.jsonl" --limit "$limit" --n "$n" --max-tokens 200 \
    --top-logprobs 0 --seed 11 --out "$work/samples$n.jsonl"
args=(--objective implicit --data "$work/samples$n.jsonl" --verifier lab --init "$policy" --beta "${BETA:-0.05}" --lr "${LR:-3e-4}"
    --out "$out" --checkpoint-dir "$work/train-implicit")
# --resume only when a checkpoint is there (a stopped run continues; --resume without one is refused)
resume() { [ -s "$1" ] && echo --resume || true; }
$sw train-prm "${args[@]}" --minutes "$minutes" $(resume "$work/train-implicit/checkpoint.bin")
$sw train-prm "${args[@]}" --steps "${STEPS:-400}" --minutes $((minutes * 2)) --resume
