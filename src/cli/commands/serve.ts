/** `stepwise serve`: an OpenAI/vLLM-compatible HTTP server over a GGUF model. */
import type {Command} from "commander";
import {createEngine} from "../../engines/spec.ts";
import {type Engine} from "../../engines/types.ts";
import {StepwiseError} from "../../util/errors.ts";
import {hostOption, intOption} from "../options.ts";
import {checkCanListen} from "../../io/listen.ts";
import {checkGgufHeader} from "../../gguf/reader.ts";

export function register(program: Command): void {
    program
        .command("serve")
        .description("serve a GGUF model over the OpenAI-compatible API (vLLM dialect: logprobs, n, seed, echo, prompt_logprobs, token-by-token streaming, /tokenize, STEP pooling)")
        .argument("[model]", "GGUF file (or use --model / --prm)")
        .option("--model <file>", "GGUF model to serve")
        .option("--prm <file>", "serve a tag PRM: enables /pooling and /v1/embeddings (STEP pooling)")
        .option("--step-tag <text>", "step tag text for --prm (default: the file's stepwise.step_tag)")
        .option("--returned-tokens <a,b>", "label tokens returned at each tag, positive first (default: the file's stepwise good/bad tokens)")
        .option("--host <host>", "address to bind (only loopback unless you say otherwise)", hostOption, "127.0.0.1")
        .option("--port <port>", "port (0 = any free port)", intOption(0, 65535), 8000)
        .option("--name <name>", "model name reported in /v1/models (default: file name)")
        .option("--sequences <n>", "parallel sequences (samples decoded in one batch)", intOption(1, 256), 8)
        .option("--context-size <n>", "context size per sequence (vLLM's max_model_len: a prompt + max_tokens beyond it is refused with HTTP 400, never shortened; default: the model's training context, at most 4096)", intOption(16))
        .option("--threads <n>", "CPU threads", intOption(1), 1)
        .option("--gpu <backend>", "GPU offload: false (CPU, exact probabilities), auto, cuda, vulkan or metal", "false")
        .option("--default-sampling <k=v,...>", "sampling defaults for fields a request leaves out, as vLLM's generation config (e.g. top_p=0.95,top_k=40); default: neutral")
        .option("--log", "log one line per request")
        .addHelpText(
            "after",
            `
Examples:
  stepwise serve models/lab-policy.gguf --port 8000
  curl -s 127.0.0.1:8000/v1/completions -d '{"prompt":"Compute 3 + 4.\\n","max_tokens":40,"logprobs":5,"n":4,"seed":1}'
  curl -sN 127.0.0.1:8000/v1/chat/completions -d '{"messages":[{"role":"user","content":"Compute 3 + 4."}],"stream":true}'   # SSE, token by token
  stepwise serve --prm models/lab-prm.gguf --port 8001     # then POST /pooling {"input": "...<|step|>..."}
  stepwise sample --engine "openai:http://127.0.0.1:8000/v1" --data q.jsonl --out s.jsonl`,
        )
        .action(async (positional: string | undefined, o) => {
            const file = o.prm ?? o.model ?? positional;
            if (!file) throw new StepwiseError("serve: name a GGUF model (stepwise serve MODEL.gguf, --model or --prm)");
            const header = checkGgufHeader(file);
            if (o.prm && header.strings["stepwise.prm.objective"] === "implicit")
                throw new StepwiseError(`serve --prm ${file}: an implicit PRM has no step tag to pool; serve it as a plain model (stepwise serve ${file}) next to its reference and score with --prm "openai:URL?model=NAME&format=implicit&beta=…&ref=…"`);
            await checkCanListen(o.host, o.port);
            const {startServer} = await import("../../apps/serve/server.ts");
            const params = new URLSearchParams({sequences: String(o.sequences), threads: String(o.threads), gpu: String(o.gpu)});
            if (o.contextSize !== undefined) params.set("contextSize", String(o.contextSize));
            const engine = await createEngine(`llama:${file}?${params}`);
            let pooling;
            if (o.prm) pooling = await resolvePooling(engine, file, o.stepTag, o.returnedTokens);
            const server = await startServer({
                engine,
                host: o.host,
                port: o.port,
                modelName: o.name,
                pooling,
                samplingDefaults: o.defaultSampling ? parseDefaults(o.defaultSampling) : undefined,
                onRequest: o.log ? (line) => console.error(line) : undefined,
            });
            console.error(`stepwise serve: ${file} at ${server.url}/v1 (Ctrl-C to stop)`);
            const stop = async () => {
                await server.close();
                await engine.close();
                process.exit(0);
            };
            process.once("SIGINT", stop);
            process.once("SIGTERM", stop);
        });
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
