/**
 * `stepwise/train`: the generic trainer (src/train: tiny llamas on tfjs, checkpoints, GGUF out)
 * and the four models stepwise trains with it: a PRM from label records (src/pipeline/train-prm.ts),
 * the lab policy, the lab judge and the code-lab policy (src/apps/lab, src/apps/code).
 */
export * from "../train/index.ts";
export {trainPrm, type TrainPrmOptions} from "../pipeline/train-prm.ts";
export {trainPolicy, type PolicyTrainOptions} from "./lab/policy/train.ts";
export {trainLabJudge, type LabJudgeTrainOptions} from "./lab/judge/train.ts";
export {trainCodePolicy} from "./code/policy.ts";
export {trainPolicyRl, type RlOptions, type RlReward, type RlLogEntry, type TokenRewardHook} from "./lab/policy/rl.ts";
