#!/usr/bin/env bash
# Rebuilds models/lab-tag-prm.gguf, the lab's tag PRM (the step scores of models/lab-prm.gguf,
# scripts/make-lab-prm.sh), from the shipped lab policy with the stepwise CLI alone:
# sample → threshold → split (adaptive) → label (MC hard labels; early stop + binary search, as the
# shipped model's labels were made) → train-prm.
# Every stage resumes, so a killed run continues when started again.
#   scripts/make-lab-tag-prm.sh [WORKDIR] [SPLIT=adaptive] [LABELS=hard] [MINUTES=15] [OUT=models/lab-tag-prm.gguf]
# Environment: PROBLEMS (1200), SAMPLES per problem (4), POLICY (models/lab-policy.gguf),
# SHARDS (2: labelling processes side by side, one per core).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-.stepwise-cache/lab-prm}
split=${2:-adaptive}
labels=${3:-hard}
minutes=${4:-15}
out=${5:-models/lab-tag-prm.gguf}
problems=${PROBLEMS:-1200}
n=${SAMPLES:-4}
policy=${POLICY:-models/lab-policy.gguf}
node scripts/ensure-deps.mjs
sw="node bin/stepwise.mjs"
# --resume only when a checkpoint is there (a stopped run continues; --resume without one is refused)
resume() { [ -s "$1" ] && echo --resume || true; }
mkdir -p "$work"

[ -s "$work/problems.jsonl" ] || $sw lab generate --n "$problems" --split train --seed 11 --out "$work/problems.jsonl"
$sw sample --engine llama:$policy --data "$work/problems.jsonl" --n "$n" --max-tokens 200 \
    --top-logprobs 0 --seed 11 --out "$work/samples.jsonl"
[ -s "$work/threshold.json" ] || $sw threshold --samples "$work/samples.jsonl" --out "$work/threshold.json"
tau=()
[ "$split" = adaptive ] && tau=(--threshold "$work/threshold.json")
$sw split --samples "$work/samples.jsonl" --strategy "$split" "${tau[@]}" --out "$work/steps-$split.jsonl"
shards=${SHARDS:-2}
data=()
pids=()
for ((i = 0; i < shards; i++)); do
    $sw label --engine llama:$policy --in "$work/steps-$split.jsonl" --out "$work/labels-$split-$i.jsonl" \
        --k 8 --early-stop --search binary --max-tokens 200 --lab-truth --concurrency 4 --shard "$i/$shards" &
    pids+=($!)
    data+=(--data "$work/labels-$split-$i.jsonl")
done
for pid in "${pids[@]}"; do wait "$pid"; done # a failed shard stops the script (set -e)
$sw train-prm "${data[@]}" --labels "$labels" --init "$policy" --out "$out" \
    --minutes "$minutes" --checkpoint-dir "$work/train-$split-$labels" $(resume "$work/train-$split-$labels/checkpoint.bin")
