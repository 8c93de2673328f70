/** LLM-as-a-judge: prompt, parsing, voting and the `judge` stage (Qwen arXiv 2501.07301 §3). */
export * from "./prompt.ts";
export * from "./parse.ts";
export * from "./vote.ts";
export * from "./judge.ts";
