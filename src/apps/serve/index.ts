/**
 * `stepwise/serve`: the OpenAI/vLLM-compatible HTTP server over a llama engine
 * (`stepwise serve`): {@link startServer} binds it, {@link createApp} gives the Hono app.
 */
export {createApp, startServer, type RunningServer, type ServerOptions, type StepPoolingConfig} from "./server.ts";
export {HttpError} from "./requests.ts";
export {DEFAULT_EOS_TEXTS, FORMAT_STEPS, parseRewardRequest, splitQuery, stripEos, truncatedPromptOverlap, type RewardConfig, type RewardSteps, type QueryReward} from "./reward.ts";
