/** `stepwise serve`: an OpenAI/vLLM-compatible HTTP server over a GGUF model. */
import type {Command} from "@commander-js/extra-typings";
import {checkModelKind, createEngine, parseEngineSpec} from "../../engines/spec.ts";
import type {RewardConfig, RewardSteps} from "../../apps/serve/reward.ts";
import {type Engine} from "../../engines/types.ts";
import {StepwiseError} from "../../util/errors.ts";
import {collect, floatOption, hostOption, intOption, localModelFile, unescape} from "../options.ts";
import {AGGREGATIONS, isAggregation} from "../../select/aggregate.ts";
import {checkCanListen} from "../../io/listen.ts";
import {claimSignals} from "../../io/process-end.ts";
import {checkGgufHeader} from "../../gguf/reader.ts";
import {basename} from "node:path";

export function register(program: Command): void {
    program
        .command("serve")
        .description("serve a GGUF model over the OpenAI-compatible API (vLLM dialect: logprobs, n, seed, echo, prompt_logprobs, token-by-token streaming, /tokenize, STEP pooling)")
        .argument("[model]", "GGUF file, llama:FILE, or lab:NAME, a model shipped with stepwise (or use --model / --prm); the engine's settings come from the flags below")
        .option("--model <file>", "GGUF model to serve")
        .option("--prm <spec>", "serve a tag PRM (a GGUF file, lab:prm / lab:tag-prm, or a llama: PRM spec such as llama:prm.gguf?format=math-shepherd; a pair from pair-prm serves its tag PRM): enables /pooling, /v1/embeddings (STEP pooling) and /get_reward (OpenRLHF's remote reward model)")
        .option("--step-tag <text>", "step tag text for --prm (default: the file's stepwise.step_tag)")
        .option("--returned-tokens <a,b>", "label tokens returned at each tag, positive first (default: the file's stepwise good/bad tokens)")
        .option("--host <host>", "address to bind (only loopback unless you say otherwise)", hostOption, "127.0.0.1")
        .option("--port <port>", "port (0 = any free port)", intOption(0, 65535), 8000)
        .option("--name <name>", "model name reported in /v1/models (default: file name)")
        .option("--sequences <n>", "parallel sequences (samples decoded in one batch)", intOption(1, 256), 8)
        .option("--context-size <n>", "context size per sequence (vLLM's max_model_len: a prompt + max_tokens beyond it is refused with HTTP 400, never shortened; default: the model's training context, at most 4096)", intOption(16))
        .option("--threads <n>", "CPU threads", intOption(1), 1)
        .option("--gpu <backend>", "GPU offload: false (CPU, exact probabilities), auto, cuda, vulkan or metal", "false")
        .option("--default-sampling <k=v,k=v>", "sampling defaults for fields a request leaves out, as vLLM's generation config (e.g. top_p=0.95,top_k=40); default: neutral")
        .option("--log", "log one line per request")
        .option("--aggregation <rule>", `/get_reward: how step scores become the reward: ${AGGREGATIONS.join(", ")}`, "min")
        .option("--steps <rule>", "/get_reward: where a response's steps end: adaptive (after each token the --policy gave probability < τ), newline, double-newline, or any delimiter text (\\n escapes); default: the PRM format's own (math-shepherd newline, qwen-prm double-newline, asprm and stepwise-lab adaptive)")
        .option("--policy <spec>", "/get_reward with adaptive steps: the policy whose token probabilities cut the steps (e.g. llama:models/lab-policy.gguf)")
        .option("--tau <p>", "/get_reward with adaptive steps: τ (a token with probability below it ends a step)", floatOption(0, 1))
        .option("--threshold <file>", "/get_reward with adaptive steps: τ from `stepwise threshold`'s JSON")
        .option("--prompt-end <text>", "/get_reward: for queries sent without prompts, the prompt ends after the first occurrence of this text (\\n escapes); default \\n for stepwise-lab PRMs, else none")
        .option("--question <regex>", "/get_reward: the question the PRM reads is this pattern's first group on the prompt (default: the prompt, trimmed)")
        .option("--too-long-reward <r>", "/get_reward: the reward of a query longer than the PRM's context (extra_logs.prm_too_long 1); default: the whole request fails with a 400 naming the query, and an RL trainer retries, then stops", floatOption(-1e9))
        .option("--eos <text>", "/get_reward: an end-of-sequence text stripped from the end of responses (repeatable; default </s>, <|im_end|>, <|endoftext|>, <|eot_id|>, <|end_of_text|>, <|end|>)", collect)
        .addHelpText(
            "after",
            `
Examples:
  stepwise serve models/lab-policy.gguf --port 8000
  curl -s 127.0.0.1:8000/v1/completions -H 'Content-Type: application/json' -d '{"prompt":"Compute 3 + 4.\\n","max_tokens":40,"logprobs":5,"n":4,"seed":1}'
  curl -sN 127.0.0.1:8000/v1/chat/completions -H 'Content-Type: application/json' -d '{"messages":[{"role":"user","content":"Compute 3 + 4."}],"stream":true}'   # SSE, token by token
  stepwise serve --prm models/lab-prm.gguf --port 8001     # then POST /pooling {"input": "...<|step|>..."}
  stepwise serve --prm models/lab-prm.gguf --policy llama:models/lab-policy.gguf --tau 0.8 --aggregation min --port 5000
      # then POST /get_reward {"query": ["Compute 3 + 4.\\nFirst, 3 + 4 = 7.\\nThe answer is 7.</s>"], "prompts": ["Compute 3 + 4.\\n"]}
      # → {"rewards": [r], "scores": [r], "extra_logs": {"prm_steps": [n], ...}, "step_scores": [[...]]}; OpenRLHF: --reward.remote_url http://127.0.0.1:5000/get_reward
  stepwise sample --engine "openai:http://127.0.0.1:8000/v1" --data q.jsonl --out s.jsonl`,
        )
        .action(async (positional, o) => {
            const prmSpec: string | undefined = o.prm;
            const given = o.model ?? positional;
            // lab:NAME (a model shipped with stepwise) is the file it names, from any folder.
            let file = prmSpec !== undefined ? await localModelFile(prmSpec, `serve --prm ${prmSpec}`, {prmSpec: true, why: "serve runs a local GGUF"}) : given !== undefined ? await localModelFile(given, `serve ${given}`, {noParams: "serve takes the engine's settings from its flags (--threads, --context-size, --sequences, --gpu), not from the spec", why: "serve runs a local GGUF"}) : undefined;
            if (!file) throw new StepwiseError("serve: name a GGUF model (stepwise serve MODEL.gguf, --model or --prm)");
            if (!isAggregation(o.aggregation)) throw new StepwiseError(`serve --aggregation: "${o.aggregation}" is not one of ${AGGREGATIONS.join(", ")}`);
            if (o.tau !== undefined && o.threshold !== undefined) throw new StepwiseError("serve: give at most one of --tau and --threshold");
            // --prm: the model-kind check of `score` (a stepwise policy or judge is refused).
            const header = o.prm ? checkModelKind(file, "prm") : checkGgufHeader(file);
            if (o.prm && header.strings["stepwise.prm.objective"] === "implicit")
                throw new StepwiseError(`serve --prm ${file}: an implicit PRM has no step tag to pool; serve it as a plain model (stepwise serve ${file}) next to its reference and score with --prm openai:…&format=implicit`);
            const tagReading = header.strings["stepwise.prm.objective"] === "tag+implicit";
            if (prmSpec !== undefined && (await import("../../prm/index.ts")).splitPrmSpec(prmSpec).params.format === "implicit")
                throw new StepwiseError(`serve --prm ${prmSpec}: format=implicit reads token values, which /pooling and /get_reward do not serve; serve the implicit PRM as a plain model (stepwise serve ${file}) next to its reference and score with --prm openai:…&format=implicit`);
            // Served under the name the user gave (the pair's file name, not its tag PRM's), unless --name says otherwise.
            let modelName = o.name;
            if (o.prm && tagReading) {
                // A pair (`stepwise pair-prm`) is served as its tag PRM: pooling and /get_reward read that file.
                const {checkPrmFile} = await import("../../prm/index.ts");
                const {tagFile} = checkPrmFile(`llama:${file}`, "stepwise-lab");
                if (tagFile) {
                    console.error(`stepwise serve: ${file} pairs token values with the tag PRM ${tagFile}; serving the tag PRM's step scores`);
                    modelName ??= basename(file).replace(/\.gguf$/, "");
                    file = tagFile;
                }
            }
            await checkCanListen(o.host, o.port);
            const {startServer} = await import("../../apps/serve/server.ts");
            const params = new URLSearchParams({sequences: String(o.sequences), threads: String(o.threads), gpu: String(o.gpu)});
            if (o.contextSize !== undefined) params.set("contextSize", String(o.contextSize));
            const engine = await createEngine(`llama:${file}?${params}`);
            let pooling;
            let reward;
            const closers: Array<() => Promise<void>> = [];
            if (prmSpec !== undefined) {
                pooling = await resolvePooling(engine, file, o.stepTag, o.returnedTokens);
                // A "tag+implicit" PRM is served for its step scores: read as the tag PRM, its reference not needed.
                reward = await rewardConfig(prmSpec, file, params, o, closers, tagReading);
            }
            const server = await startServer({
                engine,
                host: o.host,
                port: o.port,
                modelName,
                pooling,
                reward,
                samplingDefaults: o.defaultSampling ? parseDefaults(o.defaultSampling) : undefined,
                onRequest: o.log ? (line) => console.error(line) : undefined,
            });
            console.error(`stepwise serve: ${file} at ${server.url}/v1 (Ctrl-C to stop)`);
            if (reward) console.error(`stepwise serve: POST ${server.url}/get_reward: ${reward.scorer.format.name} PRM, ${reward.steps.kind === "adaptive" ? `adaptive steps (τ = ${reward.steps.tau})` : `steps end at ${JSON.stringify(reward.steps.text)}`}, ${reward.aggregation} of the step scores`);
            const stop = async () => {
                console.error("stepwise serve: stopping: requests in flight finish first (up to 30 s; a second Ctrl-C ends at once)");
                process.once("SIGINT", () => process.exit(130));
                process.once("SIGTERM", () => process.exit(143));
                await server.close();
                for (const close of closers) await close();
                await engine.close();
                process.exit(0);
            };
            claimSignals(); // stop() ends the process once the server has shut down
            process.once("SIGINT", stop);
            process.once("SIGTERM", stop);
        });
}

/**
 * /get_reward's configuration from the flags: the scorer (createScorer on the --prm spec; a bare
 * file becomes llama:FILE with the served engine's sequences, threads, context and GPU settings,
 * so the model is loaded a second time for scoring), the step rule (--steps, else the format's
 * own; adaptive needs --policy and --tau or --threshold) and the prompt and question rules;
 * undefined (the route off, said on stderr) when the format cuts adaptively and no --policy or
 * --steps is given, so a plain pooling server starts as before. Engines opened here are closed
 * by `closers`. `tagReading`: a spec without `format` reads the file as the stepwise-lab tag PRM
 * (a "tag+implicit" PRM, whose token values /get_reward does not use).
 */
async function rewardConfig(
    prmSpec: string,
    file: string,
    params: URLSearchParams,
    o: {aggregation: string; steps?: string; policy?: string; tau?: number; threshold?: string; promptEnd?: string; question?: string; eos?: string[]; tooLongReward?: number},
    closers: Array<() => Promise<void>>,
    tagReading = false,
): Promise<RewardConfig | undefined> {
    const {createScorer} = await import("../../prm/index.ts");
    const {FORMAT_STEPS} = await import("../../apps/serve/reward.ts");
    let question: RegExp | undefined;
    if (o.question !== undefined) {
        try {
            question = new RegExp(o.question);
        } catch (e) {
            throw new StepwiseError(`serve --question: not a regular expression (${(e as Error).message})`);
        }
    }
    const spec = prmSpec.startsWith("llama:") ? prmSpec : `llama:${file}?${params}`;
    const scorer = await createScorer(spec, {stepsOnly: tagReading});
    closers.push(() => scorer.close());
    const format = scorer.format.name;
    const own = FORMAT_STEPS[format];
    const rule = o.steps ?? (own === undefined ? undefined : own === "adaptive" ? "adaptive" : own.delimiter);
    if (rule === undefined) throw new StepwiseError(`serve --prm: format ${format} has no step rule of its own; give --steps`);
    let steps: RewardSteps;
    if (rule === "adaptive") {
        if (!o.policy) {
            // Pooling (/pooling, /v1/embeddings) needs no step rule: serve it, and say how to turn /get_reward on.
            if (!o.steps) {
                console.error(`stepwise serve: /get_reward is off: format ${format} cuts steps adaptively; give --policy SPEC and --tau or --threshold (or --steps newline) to turn it on`);
                return undefined;
            }
            throw new StepwiseError(`serve --prm: --steps adaptive: give --policy SPEC (its token probabilities cut the steps) and --tau or --threshold, or --steps newline`);
        }
        const tau = o.tau ?? (o.threshold !== undefined ? (await import("../../pipeline/threshold.ts")).readThresholdFile(o.threshold) : undefined);
        if (tau === undefined) throw new StepwiseError("serve --steps adaptive: give --tau or --threshold (τ of the policy's token probabilities)");
        const policy = await createEngine(o.policy, {role: "policy"});
        closers.push(() => policy.close());
        if (!policy.promptLogprobs) throw new StepwiseError(`serve --policy ${o.policy}: this engine cannot give the probabilities of a given text's tokens (promptLogprobs); use a llama: spec`);
        steps = {kind: "adaptive", tau, cutoff: "raw", policy};
    } else {
        const text = rule === "newline" ? "\n" : rule === "double-newline" ? "\n\n" : unescape(rule);
        if (text === "") throw new StepwiseError("serve --steps: the delimiter is empty");
        steps = {kind: "delimiter", text};
    }
    return {
        scorer,
        aggregation: o.aggregation as RewardConfig["aggregation"],
        steps,
        promptEnd: o.promptEnd !== undefined ? unescape(o.promptEnd) : format === "stepwise-lab" ? "\n" : undefined,
        question,
        eos: o.eos,
        tooLongReward: o.tooLongReward,
    };
}

async function resolvePooling(engine: Engine, file: string, stepTag?: string, returned?: string) {
    const {readGgufInfo} = await import("../../gguf/reader.ts");
    const meta = stepTag && returned ? {} : (await readGgufInfo(file)).metadata;
    const tag = stepTag ?? (meta["stepwise.step_tag"] as string | undefined);
    const labels = returned ? returned.split(",") : [meta["stepwise.good_token"], meta["stepwise.bad_token"]].filter((x): x is string => typeof x === "string");
    if (!tag || labels.length !== 2)
        throw new StepwiseError(`${file}: not a stepwise PRM file; give --step-tag and --returned-tokens "good,bad"`);
    const single = async (text: string, what: string) => {
        const ids = await engine.tokenize(text, {addBos: false});
        if (ids.length !== 1) throw new StepwiseError(`${what} "${text}" is ${ids.length} tokens in this model's vocabulary; it must be exactly one`);
        return ids[0];
    };
    return {stepTagId: await single(tag, "step tag"), returnedTokenIds: [await single(labels[0], "label token"), await single(labels[1], "label token")]};
}

/** "top_p=0.95,top_k=40" → {top_p: 0.95, top_k: 40}. */
function parseDefaults(text: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const part of text.split(",")) {
        const [key, value] = part.split("=");
        const v = Number(value);
        if (!key || value === undefined || !Number.isFinite(v)) throw new StepwiseError(`--default-sampling: "${part}" is not FIELD=NUMBER`);
        out[key.trim()] = v;
    }
    return out;
}
