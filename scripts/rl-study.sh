#!/usr/bin/env bash
# The lab RL study (issue "Reinforcement learning with process rewards", item 3): GRPO on the lab
# policy with outcome rewards vs outcome + PRM rewards (min and per-step), then held-out accuracy
# of each policy. CPU hours: NOT run yet. Each arm: ITER iterations of P problems × G samples.
# Usage: bash scripts/rl-study.sh [OUT_DIR]   (env: ITER=200 P=8 G=8 SEEDS="0 1 2" EVAL_N=500)
set -euo pipefail
OUT=${1:-stepwise-out/rl-study}
ITER=${ITER:-200}
P=${P:-8}
G=${G:-8}
SEEDS=${SEEDS:-"0 1 2"}
EVAL_N=${EVAL_N:-500}
stepwise() { npm run --silent stepwise -- "$@"; }
mkdir -p "$OUT"
stepwise lab generate --n "$EVAL_N" --split heldout --seed 3000 --out "$OUT/heldout.jsonl"
for seed in $SEEDS; do
  for arm in outcome prm-min prm-steps; do
    case $arm in
      outcome) reward=(--reward outcome) ;;
      prm-min) reward=(--reward outcome+prm --process min) ;;
      prm-steps) reward=(--reward outcome+prm --process steps) ;;
    esac
    dir="$OUT/$arm-seed$seed"
    # --resume: a killed study continues where it stopped.
    stepwise lab train-rl --out "$dir/policy.gguf" --checkpoint-dir "$dir" --iterations "$ITER" \
      --problems "$P" --group "$G" --seed "$seed" "${reward[@]}" --resume
    stepwise decode --strategy greedy --policy "llama:$dir/policy.gguf" --data "$OUT/heldout.jsonl" \
      --out "$dir/greedy.jsonl" --json > "$dir/greedy.json"
  done
done
stepwise decode --strategy greedy --policy llama:models/lab-policy.gguf --data "$OUT/heldout.jsonl" \
  --out "$OUT/start-greedy.jsonl" --json > "$OUT/start-greedy.json"
echo "rl-study: per-iteration logs in $OUT/*/rl-log.jsonl; held-out greedy accuracy in $OUT/*/greedy.json"
