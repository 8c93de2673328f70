/** Filtering and re-labelling of labelled samples: consensus filtering (Qwen arXiv 2501.07301 §3.2), judge and lab-truth labels. */
export * from "./consensus.ts";
export * from "./labels.ts";
