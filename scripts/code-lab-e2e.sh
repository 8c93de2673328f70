#!/usr/bin/env bash
# The code lab end to end, offline: sample → threshold (code preset, 1.4%) → split → stats (code
# statement categories) → label (Monte-Carlo rollouts judged by unit tests in the sandbox) →
# train a PRM → sample held-out tasks → score with the PRM → grade by the tests → Best-of-N.
#
#   scripts/code-lab-e2e.sh                       # defaults below, into .stepwise-cache/code-e2e
#   OUT=/tmp/e2e TRAIN_TASKS=6 SAMPLES=2 K=2 TEST_TASKS=4 N=4 PRM_STEPS=10 scripts/code-lab-e2e.sh
#
# Every stage resumes: re-running after a kill continues where it stopped. Needs bubblewrap
# (node scripts/install-sandbox.mjs). STEPWISE overrides the command (tests run from source).
set -euo pipefail
cd "$(dirname "$0")/.."
POLICY=${POLICY:-models/lab-code-policy.gguf}
OUT=${OUT:-.stepwise-cache/code-e2e}
TRAIN_TASKS=${TRAIN_TASKS:-60}
SAMPLES=${SAMPLES:-4}
K=${K:-4}
TEST_TASKS=${TEST_TASKS:-40}
N=${N:-8}
PRM_STEPS=${PRM_STEPS:-150}
S=${STEPWISE:-node bin/stepwise.mjs}
# --resume only when a checkpoint is there (a stopped run continues; --resume without one is refused)
resume() { [ -s "$1" ] && echo --resume || true; }
mkdir -p "$OUT"
say() { echo "== code-lab-e2e: $*" >&2; }

say "1/10 generate $TRAIN_TASKS train tasks and $TEST_TASKS held-out tasks"
$S code generate --n "$TRAIN_TASKS" --seed 1 --out "$OUT/train-tasks.jsonl"
$S code generate --n "$TEST_TASKS" --seed 2 --split heldout --out "$OUT/test-tasks.jsonl"
say "2/10 sample $SAMPLES programs per train task"
$S sample --engine "llama:$POLICY" --data "$OUT/train-tasks.jsonl" --n "$SAMPLES" --max-tokens 320 --out "$OUT/samples.jsonl" --quiet
say "3/10 threshold (code preset) and split"
$S threshold --samples "$OUT/samples.jsonl" --domain code --out "$OUT/threshold.json" --no-plot
$S split --samples "$OUT/samples.jsonl" --threshold "$OUT/threshold.json" --out "$OUT/steps.jsonl"
say "4/10 stats: where decision tokens sit in code"
$S stats --steps "$OUT/steps.jsonl" --samples "$OUT/samples.jsonl" --domain code --out "$OUT/stats" --no-plot > /dev/null
say "5/10 label: $K rollouts per step, judged by the unit tests in the sandbox"
$S label --engine "llama:$POLICY" --verifier code --in "$OUT/steps.jsonl" --out "$OUT/labels.jsonl" --k "$K" --savers --max-tokens 320
say "6/10 train a PRM on the labels ($PRM_STEPS steps)"
[ -f "$OUT/prm.gguf" ] || $S train-prm --data "$OUT/labels.jsonl" --init "$POLICY" --out "$OUT/prm.gguf" --steps "$PRM_STEPS" --checkpoint-dir "$OUT/prm-ckpt" $(resume "$OUT/prm-ckpt/checkpoint.bin")
say "7/10 sample $N programs per held-out task"
$S sample --engine "llama:$POLICY" --data "$OUT/test-tasks.jsonl" --n "$N" --max-tokens 320 --seed 5 --out "$OUT/test-samples.jsonl" --quiet
$S split --samples "$OUT/test-samples.jsonl" --threshold "$OUT/threshold.json" --out "$OUT/test-steps.jsonl"
say "8/10 score the held-out steps with the PRM"
$S score --prm "llama:$OUT/prm.gguf" --in "$OUT/test-steps.jsonl" --out "$OUT/test-scored.jsonl"
say "9/10 grade the held-out programs by their tests"
$S code grade --data "$OUT/test-scored.jsonl" --out "$OUT/test-graded.jsonl"
say "10/10 Best-of-N"
$S eval bon --data "$OUT/test-graded.jsonl" --out "$OUT/bon" --json > "$OUT/bon.json"
say "done: $OUT/bon.json, $OUT/bon/report.md, $OUT/stats/stats.md"
