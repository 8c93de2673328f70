#!/usr/bin/env bash
# Builds the branch-trained lab PRM: the tag PRM (scripts/make-lab-prm.sh) fine-tuned on
# Monte-Carlo labels of the top-k alternatives at TVD's decision tokens, so that it ranks the
# candidate tokens TVD chooses between (docs/decoding.md, "Branch labels").
# greedy samples of train problems with their top-8 alternatives → label-branches (each candidate
# completed greedily and checked: the value TVD's decode follows) → train-prm --branches.
# Every stage resumes, so a killed run continues when started again.
#   scripts/make-lab-branch-prm.sh [WORKDIR] [MINUTES=25] [OUT=WORKDIR/branch-prm.gguf]
# (docs/decoding.md's branch PRM: these defaults; it is not shipped, so it is written to WORKDIR.)
# Environment: PROBLEMS (2400), INIT (models/lab-prm.gguf), POLICY (models/lab-policy.gguf),
# SHARDS (1: labelling processes side by side), LR (3e-4).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-.stepwise-cache/lab-branch-prm}
minutes=${2:-25}
out=${3:-$work/branch-prm.gguf}
problems=${PROBLEMS:-2400}
policy=${POLICY:-models/lab-policy.gguf}
init=${INIT:-models/lab-prm.gguf}
node scripts/ensure-deps.mjs
sw="node bin/stepwise.mjs"
mkdir -p "$work"

[ -s "$work/problems.jsonl" ] || $sw lab generate --n "$problems" --split train --seed 21 --out "$work/problems.jsonl"
$sw sample --engine llama:$policy --data "$work/problems.jsonl" --n 1 --temperature 0 --top-logprobs 8 \
    --max-tokens 200 --out "$work/greedy.jsonl"
shards=${SHARDS:-1}
data=()
pids=()
for ((i = 0; i < shards; i++)); do
    name=branches; shard=()
    [ "$shards" -gt 1 ] && { name=branches-$i; shard=(--shard "$i/$shards"); }
    $sw label-branches --engine llama:$policy --verifier lab --samples "$work/greedy.jsonl" --max-tokens 200 \
        --concurrency 4 "${shard[@]}" --out "$work/$name.jsonl" &
    pids+=($!)
    data+=(--branches "$work/$name.jsonl")
done
for pid in "${pids[@]}"; do wait "$pid"; done # a failed shard stops the script (set -e)
$sw train-prm "${data[@]}" --init "$init" --out "$out" --minutes "$minutes" --lr "${LR:-3e-4}" \
    --checkpoint-dir "$work/train"
