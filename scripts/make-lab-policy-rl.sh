#!/usr/bin/env bash
# Rebuilds models/lab-policy-rl.gguf: the lab policy after GRPO with the outcome reward (the exact
# grade), 150 iterations of 8 fresh train problems × 8 samples (9,600 samples), lr 3e-5, KL 0.04,
# 2 updates per iteration, seed 0 (about an hour on one core), then measures it against the
# starting policy on two held-out sets of 200 problems (docs/rl.md).
# Resumable: a killed run continues from its checkpoint when started again.
#   scripts/make-lab-policy-rl.sh [WORKDIR] [OUT=models/lab-policy-rl.gguf]
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-.stepwise-cache/lab-policy-rl}
out=${2:-models/lab-policy-rl.gguf}
node scripts/ensure-deps.mjs
sw="node bin/stepwise.mjs"
# --resume only when a checkpoint is there (a stopped run continues; --resume without one is refused)
resume() { [ -s "$1" ] && echo --resume || true; }
mkdir -p "$work"
$sw lab train-rl --init models/lab-policy.gguf --out "$work/policy.gguf" --checkpoint-dir "$work" --iterations 150 \
    --problems 8 --group 8 --lr 3e-5 --kl 0.04 --updates 2 --seed 0 --reward outcome $(resume "$work/rl-checkpoint.bin")
cp "$work/policy.gguf" "$out"
# <out>.train.json: the settings and the run's rl-log.jsonl (one object per iteration).
node -e 'const fs=require("fs");const [log,out]=process.argv.slice(1);fs.writeFileSync(out,JSON.stringify({recipe:"scripts/make-lab-policy-rl.sh",init:"models/lab-policy.gguf",reward:"outcome",iterations:150,problems:8,group:8,lr:3e-5,kl:0.04,updates:2,seed:0,samples:9600,log:fs.readFileSync(log,"utf8").trim().split("\n").map(JSON.parse)},null,1))' \
    "$work/rl-log.jsonl" "${out%.gguf}.train.json"
for s in 1000 1001; do # held-out streams 3000 and 3001
    $sw lab eval-policy --policy "$out" --baseline models/lab-policy.gguf --n 200 --seed $s --samples 16 \
        --out "$work/eval-$s" --json > "$work/eval-$s.json"
done
echo "make-lab-policy-rl: $out; paired figures in $work/eval-1000.json and $work/eval-1001.json"
