#!/usr/bin/env bash
# The Qwen experiment in the lab (docs/judge.md): PRMs trained with the same budget on MC-hard,
# MC-soft, consensus-filtered MC-hard, consensus-filtered MC-soft, judge-only and gold (exact lab
# truth) labels, each measured against exact step truth with `stepwise lab eval-prm` (step ROC-AUC,
# lab-ProcessBench F1, Best-of-16 with intervals).
# Every stage resumes, so a killed run continues when started again.
#   scripts/qwen-experiment.sh [WORKDIR] [STAGE=all|data|judge|train|eval]
# Environment: PROBLEMS (100 train problems), SAMPLES per problem (4), K rollouts per step (8),
# JUDGE (llama:models/lab-judge.gguf), VOTES (answers per solution; default the judge template's:
# 1 greedy for the lab verifier, 5 at T = 1 for a compact lab judge), PRM_STEPS (optimizer steps per PRM, 150),
# EVAL_PROBLEMS (held-out problems, 100), EVAL_K (candidates per problem, 16),
# POLICY (models/lab-policy.gguf), RUNS (the PRMs to train/evaluate, default all six: mc-hard
# mc-soft consensus-hard consensus-soft judge-only gold; the judge-free ones can train while the
# judge is still being trained), SEED (31: the training problems, the policy samples, the MC
# rollouts, the judge's votes and each PRM's batch order; a second seed repeats the whole
# experiment on other data; the held-out candidates stay the same. The rollouts, votes and batch
# orders take SEED − 31 as their seed, so the default run is the documented one, made with their
# default 0).
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-.stepwise-cache/qwen-experiment}
stage=${2:-all}
problems=${PROBLEMS:-100}
n=${SAMPLES:-4}
seed=${SEED:-31}
(( seed >= 31 )) || { echo "qwen-experiment: SEED must be 31 or more (the rollouts, votes and batch orders take SEED − 31)" >&2; exit 2; }
sub=$((seed - 31))
k=${K:-8}
judge=${JUDGE:-llama:models/lab-judge.gguf}
votes=()
[ -n "${VOTES:-}" ] && votes=(--n "$VOTES")
prm_steps=${PRM_STEPS:-150}
eval_problems=${EVAL_PROBLEMS:-100}
eval_k=${EVAL_K:-16}
policy=${POLICY:-models/lab-policy.gguf}
sw="node bin/stepwise.mjs"
# --resume only when a checkpoint is there (a stopped run continues; --resume without one is refused)
resume() { [ -s "$1" ] && echo --resume || true; }
mkdir -p "$work"

if [[ $stage == all || $stage == data ]]; then
    # Policy samples of train problems (another seed than the lab judge's training data), adaptive
    # steps, MC labels with K rollouts per step and no early stop (soft labels need all K).
    [ -s "$work/problems.jsonl" ] || $sw lab generate --n "$problems" --split train --seed "$seed" --out "$work/problems.jsonl"
    $sw sample --engine llama:$policy --data "$work/problems.jsonl" --n "$n" --max-tokens 200 --top-logprobs 0 --seed "$seed" --out "$work/samples.jsonl"
    [ -s "$work/threshold.json" ] || $sw threshold --samples "$work/samples.jsonl" --out "$work/threshold.json"
    $sw split --samples "$work/samples.jsonl" --strategy adaptive --threshold "$work/threshold.json" --out "$work/steps.jsonl"
    $sw label --engine llama:$policy --in "$work/steps.jsonl" --out "$work/labels.jsonl" --k "$k" --max-tokens 200 --lab-truth --concurrency 2 --seed "$sub"
    $sw filter --lab-truth --labels "$work/labels.jsonl" --out "$work/gold-labels.jsonl" --json > "$work/gold-labels.json"
fi

if [[ $stage == all || $stage == judge ]]; then
    $sw judge --engine "$judge" --in "$work/labels.jsonl" --out "$work/verdicts.jsonl" --seed "$sub" "${votes[@]}"
    $sw filter --consensus --labels "$work/labels.jsonl" --verdicts "$work/verdicts.jsonl" --out "$work/consensus.jsonl" --json > "$work/consensus.json"
    $sw filter --judge-only --labels "$work/labels.jsonl" --verdicts "$work/verdicts.jsonl" --out "$work/judge-labels.jsonl" --json > "$work/judge-labels.json"
fi

# name  data  label-kind
runs=(
    "mc-hard labels.jsonl hard"
    "mc-soft labels.jsonl soft"
    "consensus-hard consensus.jsonl hard"
    "consensus-soft consensus.jsonl soft"
    "judge-only judge-labels.jsonl hard"
    "gold gold-labels.jsonl hard"
)
wanted=" ${RUNS:-mc-hard mc-soft consensus-hard consensus-soft judge-only gold} "
if [[ $stage == all || $stage == train ]]; then
    for run in "${runs[@]}"; do
        read -r name data kind <<< "$run"
        [[ $wanted == *" $name "* ]] || continue
        [ -s "$work/prm-$name.gguf" ] && continue
        $sw train-prm --data "$work/$data" --labels "$kind" --init "$policy" --out "$work/prm-$name.gguf" \
            --steps "$prm_steps" --seed "$sub" --checkpoint-dir "$work/train-$name" $(resume "$work/train-$name/checkpoint.bin")
    done
fi

if [[ $stage == all || $stage == eval ]]; then
    for run in "${runs[@]}"; do
        read -r name _ _ <<< "$run"
        [[ $wanted == *" $name "* ]] || continue
        out="$work/eval-$name"
        [ -s "$out/summary.json" ] && continue
        mkdir -p "$out"
        # the same held-out candidates for every PRM
        # (with the candidates' settings file: `lab eval-prm` refuses candidates it cannot tell were made its way)
        [ -s "$work/eval-candidates/candidates.jsonl" ] && cp -n "$work/eval-candidates/"{candidates.jsonl,candidates.jsonl.settings.json,problems.jsonl} "$out/" 2> /dev/null || true
        $sw lab eval-prm --prm "llama:$work/prm-$name.gguf" --policy "$policy" --problems "$eval_problems" --k "$eval_k" --out "$out" --json > "$out/summary.line.json"
        [ -s "$work/eval-candidates/candidates.jsonl" ] || { mkdir -p "$work/eval-candidates"; cp "$out/"{candidates.jsonl,candidates.jsonl.settings.json,problems.jsonl} "$work/eval-candidates/"; }
    done
    # For reference: the shipped lab PRM's step scores (models/lab-tag-prm.gguf) on the same candidates.
    if [ ! -s "$work/eval-shipped/summary.json" ] && [ -s "$work/eval-candidates/candidates.jsonl" ]; then
        mkdir -p "$work/eval-shipped"
        cp -n "$work/eval-candidates/"{candidates.jsonl,candidates.jsonl.settings.json,problems.jsonl} "$work/eval-shipped/" 2> /dev/null || true
        $sw lab eval-prm --prm "llama:models/lab-tag-prm.gguf" --policy "$policy" --problems "$eval_problems" --k "$eval_k" --out "$work/eval-shipped" --json > "$work/eval-shipped/summary.line.json"
    fi
    node scripts/qwen-experiment-table.mjs "$work"
fi
