#!/usr/bin/env bash
# Rebuilds models/lab-prm.gguf, the shipped lab PRM: an implicit PRM trained on branch decisions
# (its token values rank TVD's candidates) paired with the tag PRM (its step scores: Best-of-N,
# beam search, ProcessBench) by `stepwise pair-prm` (docs/decoding.md, "Token values learnt from
# branch decisions"). With the stepwise CLI alone:
#   1. the tag PRM, models/lab-tag-prm.gguf (scripts/make-lab-tag-prm.sh; kept when present);
#   2. for each problem set SEED:N of SETS: N train problems → greedy samples with their top-8
#      alternatives → label-branches --labels truth+rollouts (a candidate is right when the lab's
#      exact truth finds no error at it and its greedy rollout answers right), SHARDS processes;
#   3. train-prm --objective implicit on every set's decisions, from the policy (its reference);
#   4. pair-prm: the implicit PRM's weights, naming the tag PRM and the policy beside OUT.
# Every stage resumes, so a killed run continues when started again.
#   scripts/make-lab-prm.sh [WORKDIR=.stepwise-cache/lab-prm-branches] [OUT=models/lab-prm.gguf]
# Environment: POLICY (models/lab-policy.gguf), TAG (models/lab-tag-prm.gguf),
#   SETS ("21:2400 22:7200 23:9600": 19,200 greedy samples), SHARDS (2), STEPS (2400), LR (1e-4),
#   SEED (0: train-prm's seed).
# The shipped file came from these stages run one set at a time (about 20 minutes of labelling per
# 4,800 samples on the 2-core machine, 30 minutes of training); label-branches writes records in
# the order they finish, so a rerun trains on another example order and its figures can move
# (docs/decoding.md gives the measured spread).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-.stepwise-cache/lab-prm-branches}
out=${2:-models/lab-prm.gguf}
policy=${POLICY:-models/lab-policy.gguf}
tag=${TAG:-models/lab-tag-prm.gguf}
shards=${SHARDS:-2}
for v in "$shards" "${STEPS:-2400}" "${SEED:-0}"; do
    [[ "$v" =~ ^[0-9]+$ ]] || { echo "make-lab-prm.sh: SHARDS, STEPS and SEED must be whole numbers (got \"$v\")" >&2; exit 2; }
done
sets=${SETS:-21:2400 22:7200 23:9600}
for s in $sets; do
    [[ "$s" =~ ^[0-9]+:[0-9]+$ ]] || { echo "make-lab-prm.sh: SETS must be SEED:N pairs separated by spaces (got \"$s\")" >&2; exit 2; }
done
node scripts/ensure-deps.mjs
sw="node bin/stepwise.mjs"
# --resume only when a checkpoint is there (a stopped run continues; --resume without one is refused)
resume() { [ -s "$1" ] && echo --resume || true; }
mkdir -p "$work"

[ -s "$tag" ] || scripts/make-lab-tag-prm.sh .stepwise-cache/lab-prm adaptive hard 15 "$tag"
branches=()
for s in $sets; do
    seed=${s%%:*}; n=${s##*:}; d=$work/set-$seed
    mkdir -p "$d"
    [ -s "$d/problems.jsonl" ] || $sw lab generate --n "$n" --split train --seed "$seed" --out "$d/problems.jsonl"
    $sw sample --engine llama:$policy --data "$d/problems.jsonl" --n 1 --temperature 0 --top-logprobs 8 \
        --max-tokens 200 --out "$d/greedy.jsonl"
    pids=()
    for ((i = 0; i < shards; i++)); do
        $sw label-branches --engine llama:$policy --verifier lab --labels truth+rollouts --samples "$d/greedy.jsonl" \
            --max-tokens 200 --concurrency 2 --shard "$i/$shards" --out "$d/branches-$i.jsonl" &
        pids+=($!)
        branches+=(--branches "$d/branches-$i.jsonl")
    done
    for pid in "${pids[@]}"; do wait "$pid"; done # a failed shard stops the script (set -e)
done
[ -s "$work/implicit.gguf" ] || $sw train-prm --objective implicit "${branches[@]}" --init "$policy" --out "$work/implicit.gguf" \
    --steps "${STEPS:-2400}" --lr "${LR:-1e-4}" --seed "${SEED:-0}" --checkpoint-dir "$work/train" $(resume "$work/train/checkpoint.bin")
$sw pair-prm --implicit "$work/implicit.gguf" --tag "$tag" --out "$out"
