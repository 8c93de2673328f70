#!/usr/bin/env bash
# Builds the branch-trained lab PRM: the tag PRM (scripts/make-lab-tag-prm.sh) fine-tuned on
# Monte-Carlo labels of the top-k alternatives at TVD's decision tokens, so that it ranks the
# candidate tokens TVD chooses between (docs/decoding.md, "Branch labels").
# greedy samples of train problems with their top-8 alternatives → label-branches (each candidate
# completed greedily and checked: the value TVD's decode follows) → train-prm --branches.
# Every stage resumes, so a killed run continues when started again.
#   scripts/make-lab-branch-prm.sh [WORKDIR] [MINUTES=25] [OUT=WORKDIR/branch-prm.gguf]
# (docs/decoding.md's branch PRM: these defaults; it is not shipped, so it is written to WORKDIR.)
# Environment: PROBLEMS (2400), INIT (models/lab-tag-prm.gguf), POLICY (models/lab-policy.gguf),
# SHARDS (1: labelling processes side by side), LR (3e-4),
#   LABELS (rollouts; truth: each candidate's line completed greedily and judged by the lab's
#     exact step truth, a quarter of the policy tokens),
#   MC_PROBLEMS (0; N: also Monte-Carlo hard labels of N more train problems x 4 samples at T 1,
#     seed 11, adaptive steps at the 2% quantile, `label --k 8 --early-stop --search binary`, so
#     the PRM keeps judging sampled steps), MC_REPEAT (3: how many times the MC labels are given),
#   STEPS (train this many steps instead of MINUTES).
# docs/decoding.md's best TVD PRM (the truth-branch mix, 2,400 greedy samples):
#   LABELS=truth MC_PROBLEMS=400 MC_REPEAT=12 STEPS=900 scripts/make-lab-branch-prm.sh WORKDIR
# (run in one go from nothing: about 45 minutes on the shared 2-core machine; TVD at the released
# settings −9.0 against greedy on the report problems. The first run, from stages run one by one
# with another example order, gave −6.0: docs/decoding.md, "Branch labels").
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-.stepwise-cache/lab-branch-prm}
minutes=${2:-25}
out=${3:-$work/branch-prm.gguf}
problems=${PROBLEMS:-2400}
policy=${POLICY:-models/lab-policy.gguf}
init=${INIT:-models/lab-tag-prm.gguf}
mc_problems=${MC_PROBLEMS:-0}
for v in "$mc_problems" "${MC_REPEAT:-3}" "${STEPS:-1}"; do
    [[ "$v" =~ ^[0-9]+$ ]] || { echo "make-lab-branch-prm.sh: MC_PROBLEMS, MC_REPEAT and STEPS must be whole numbers (got \"$v\")" >&2; exit 2; }
done
node scripts/ensure-deps.mjs
sw="node bin/stepwise.mjs"
# --resume only when a checkpoint is there (a stopped run continues; --resume without one is refused)
resume() { [ -s "$1" ] && echo --resume || true; }
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
        --labels "${LABELS:-rollouts}" --concurrency 4 "${shard[@]}" --out "$work/$name.jsonl" &
    pids+=($!)
    data+=(--branches "$work/$name.jsonl")
done
for pid in "${pids[@]}"; do wait "$pid"; done # a failed shard stops the script (set -e)
if [ "$mc_problems" -gt 0 ]; then
    mc=$work/mc
    mkdir -p "$mc"
    [ -s "$mc/problems.jsonl" ] || $sw lab generate --n "$mc_problems" --split train --seed 11 --out "$mc/problems.jsonl"
    $sw sample --engine llama:$policy --data "$mc/problems.jsonl" --n 4 --temperature 1 --max-tokens 200 --seed 11 --out "$mc/samples.jsonl"
    [ -s "$mc/threshold.json" ] || $sw threshold --samples "$mc/samples.jsonl" --quantile 0.02 --out "$mc/threshold.json" --no-plot
    $sw split --samples "$mc/samples.jsonl" --strategy adaptive --threshold "$mc/threshold.json" --out "$mc/steps.jsonl"
    $sw label --engine llama:$policy --lab-truth --in "$mc/steps.jsonl" --k 8 --early-stop --search binary --max-tokens 200 \
        --out "$mc/labels.jsonl"
    for ((r = 0; r < ${MC_REPEAT:-3}; r++)); do data+=(--data "$mc/labels.jsonl"); done
fi
budget=(--minutes "$minutes")
[ -n "${STEPS:-}" ] && budget=(--steps "$STEPS")
$sw train-prm "${data[@]}" --init "$init" --out "$out" "${budget[@]}" --lr "${LR:-3e-4}" \
    --checkpoint-dir "$work/train" $(resume "$work/train/checkpoint.bin")
