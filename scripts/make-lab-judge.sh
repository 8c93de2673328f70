#!/usr/bin/env bash
# Rebuilds models/lab-verifier.gguf (the lab verifier) from the shipped lab policy with the stepwise CLI alone:
# lab generate (train split) → sample → threshold → split (newline and adaptive) → lab train-judge
# (the policy fine-tuned on the lab's exact step truth to write, under each quoted step, the step
# redone exactly then "right" or "wrong", up to the first wrong step, then \boxed{index}:
# `--critique verify`), in three runs: STEPS at lr 1e-3 from the policy, then STEPS2 at lr 5e-4
# from the first run's model (another batch seed), then STEPS3 at lr 5e-4 with `--contrast` (the
# first wrong step's check states the disagreement, `19 * 3 = 57, not 58 | wrong`) from the second
# run's model (batch seed SEED + 3); then, on three times the data (PROBLEMS2 more train problems,
# seed 22, SAMPLES each, split at the first data's τ), STEPS4 at lr 3e-4 with `--contrast` from the
# third run's model (batch seed SEED + 4) and STEPS5 at lr 3e-4 from the fourth's (batch seed SEED + 6).
# Every stage resumes: a killed run continues when started again (training from its checkpoint).
#   scripts/make-lab-judge.sh [WORKDIR] [STEPS=115] [OUT=models/lab-verifier.gguf] [STEPS2=72] [STEPS3=250] [STEPS4=400] [STEPS5=600]
# Environment: PROBLEMS (659), SAMPLES per problem (4), POLICY (models/lab-policy.gguf),
# BATCH (8), SEED (0), CRITIQUE (verify; compact = the first lab judge's "0 ok / 1 bad" critique),
# CONTEXT (verify: 640 tokens, the longest verification example is 592; compact: the policy's own).
# STEPS2=0 makes one run only (STEPS from the policy at lr 1e-3, written to OUT); STEPS3=0 stops after
# the second run (the verifier shipped before the contrast run, written to OUT); STEPS4=0 after the
# third (shipped until the fourth and fifth runs); STEPS5=0 after the fourth.
# models/lab-judge.gguf, the compact judge, is one run of 400 steps with the compact critique, made by
# this script's earlier version (git abbcfe3: the same stages and one run, checkpointing every 25
# steps, which does not change the weights). Not rerun since; the command that repeats it:
#   CRITIQUE=compact scripts/make-lab-judge.sh .stepwise-cache/lab-judge 400 models/lab-judge.gguf 0
# The shipped model is these commands with these defaults (2,636 samples, 5,272 items; 115 + 72
# steps of 8 items, the schedules of `--minutes 35` and `--minutes 18` as sized on a shared,
# heavily loaded 2-core machine; models/lab-judge.train.json; then 250 contrast steps, 32 minutes,
# run from the second run's shipped model; then runs 4 and 5, 400 + 600 steps, 23 + 52 minutes on
# the shared machine: models/lab-verifier.train.json).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-.stepwise-cache/lab-judge}
steps=${2:-115}
out=${3:-models/lab-verifier.gguf}
steps2=${4:-72}
steps3=${5:-250}
steps4=${6:-400}
steps5=${7:-600}
[ "${CRITIQUE:-verify}" = verify ] || steps3=0 # the contrast runs are for the verify critique only
problems=${PROBLEMS:-659}
n=${SAMPLES:-4}
policy=${POLICY:-models/lab-policy.gguf}
sw="node bin/stepwise.mjs"
context=()
if [ -n "${CONTEXT:-}" ]; then context=(--context "$CONTEXT"); elif [ "${CRITIQUE:-verify}" = verify ]; then context=(--context 640); fi
mkdir -p "$work"

[ -s "$work/problems.jsonl" ] || $sw lab generate --n "$problems" --split train --seed 21 --out "$work/problems.jsonl"
$sw sample --engine llama:$policy --data "$work/problems.jsonl" --n "$n" --max-tokens 200 --top-logprobs 0 --seed 21 --out "$work/samples.jsonl"
[ -s "$work/threshold.json" ] || $sw threshold --samples "$work/samples.jsonl" --out "$work/threshold.json"
[ -s "$work/steps-newline.jsonl" ] || $sw split --samples "$work/samples.jsonl" --strategy newline --out "$work/steps-newline.jsonl"
[ -s "$work/steps-adaptive.jsonl" ] || $sw split --samples "$work/samples.jsonl" --strategy adaptive --threshold "$work/threshold.json" --out "$work/steps-adaptive.jsonl"
data=(--data "$work/steps-newline.jsonl" --data "$work/steps-adaptive.jsonl")
train() { # train DIR INIT OUT STEPS LR SEED
    local resume=()
    [ -s "$1/checkpoint.bin" ] && resume=(--resume)
    $sw lab train-judge "${data[@]}" --init "$2" --out "$3" \
        --critique "${CRITIQUE:-verify}" "${context[@]}" ${stage_contrast:+--contrast} \
        --steps "$4" --lr "$5" --batch "${BATCH:-8}" --seed "$6" --checkpoint-every 10 --checkpoint-dir "$1" "${resume[@]}"
}
if [ "$steps2" = 0 ]; then # one run
    train "$work/train" "$policy" "$out" "$steps" 1e-3 "${SEED:-0}"
    exit 0
fi
[ -e "$work/stage1.done" ] || { train "$work/train" "$policy" "$work/stage1.gguf" "$steps" 1e-3 "${SEED:-0}"; touch "$work/stage1.done"; }
if [ "$steps3" = 0 ]; then
    train "$work/train2" "$work/stage1.gguf" "$out" "$steps2" 5e-4 "$(( ${SEED:-0} + 1 ))"
    exit 0
fi
[ -e "$work/stage2.done" ] || { train "$work/train2" "$work/stage1.gguf" "$work/stage2.gguf" "$steps2" 5e-4 "$(( ${SEED:-0} + 1 ))"; touch "$work/stage2.done"; }
# Written next to the checkpoints (exported every 10 steps), copied to OUT when complete: a killed run never leaves a half-trained OUT.
[ -e "$work/stage3.done" ] || { stage_contrast=1 train "$work/train3" "$work/stage2.gguf" "$work/stage3.gguf" "$steps3" 5e-4 "$(( ${SEED:-0} + 3 ))"; touch "$work/stage3.done"; }
if [ "$steps4" = 0 ]; then cp "$work/stage3.gguf" "$out"; exit 0; fi
# More data for the fourth and fifth runs: other train problems, the same sampling, the first data's τ.
more="$work/more"
mkdir -p "$more"
[ -s "$more/problems.jsonl" ] || $sw lab generate --n "${PROBLEMS2:-1318}" --split train --seed 22 --out "$more/problems.jsonl"
$sw sample --engine llama:$policy --data "$more/problems.jsonl" --n "$n" --max-tokens 200 --top-logprobs 0 --seed 22 --out "$more/samples.jsonl"
[ -s "$more/steps-newline.jsonl" ] || $sw split --samples "$more/samples.jsonl" --strategy newline --out "$more/steps-newline.jsonl"
[ -s "$more/steps-adaptive.jsonl" ] || $sw split --samples "$more/samples.jsonl" --strategy adaptive --threshold "$work/threshold.json" --out "$more/steps-adaptive.jsonl"
data+=(--data "$more/steps-newline.jsonl" --data "$more/steps-adaptive.jsonl")
[ -e "$work/stage4.done" ] || { stage_contrast=1 train "$work/train4" "$work/stage3.gguf" "$work/stage4.gguf" "$steps4" 3e-4 "$(( ${SEED:-0} + 4 ))"; touch "$work/stage4.done"; }
if [ "$steps5" = 0 ]; then cp "$work/stage4.gguf" "$out"; exit 0; fi
stage_contrast=1 train "$work/train5" "$work/stage4.gguf" "$work/stage5.gguf" "$steps5" 3e-4 "$(( ${SEED:-0} + 6 ))"
cp "$work/stage5.gguf" "$out"
