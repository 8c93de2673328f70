/** The CLI's one set of option parsers (commander argParsers): values that name the flag when they are wrong. */
import {isIP} from "node:net";
import {InvalidArgumentError, type Command, type OptionValues} from "@commander-js/extra-typings";
import {existsSync, rmSync} from "node:fs";
import {StepwiseError} from "../util/errors.ts";
import {plural} from "../util/plural.ts";

export function intOption(min = 0, max = Number.MAX_SAFE_INTEGER) {
    return (value: string): number => {
        const n = Number(value);
        if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}, got "${value}"`);
        return n;
    };
}

export function floatOption(min = -Infinity, max = Infinity) {
    return (value: string): number => {
        const n = Number(value);
        if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`expected a number from ${min} to ${max}, got "${value}"`);
        return n;
    };
}

/** Repeatable string option (`--stop a --stop b`). */
/** `--shard I/N` (0 ≤ I < N): records i with i % N === I; undefined when not given. @throws StepwiseError naming the option. */
export function parseShard(value: string | undefined): {index: number; count: number} | undefined {
    if (value === undefined) return undefined;
    const m = /^(\d+)\/(\d+)$/.exec(value);
    if (!m || Number(m[1]) >= Number(m[2])) throw new StepwiseError(`--shard: expected I/N with 0 ≤ I < N, got "${value}"`);
    return {index: Number(m[1]), count: Number(m[2])};
}

export function collect(value: string, previous: string[] = []): string[] {
    return [...previous, value];
}

/** Interpret backslash escapes typed on a command line (`\n`, `\t`). */
export function unescape(s: string): string {
    return s.replace(/\\n/g, "\n").replace(/\\t/g, "\t");
}

/** A number > 0 (durations, learning rates). */
export function positiveOption() {
    return (value: string): number => {
        const n = Number(value);
        if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number > 0, got "${value}"`);
        return n;
    };
}

/**
 * A command whose output keeps no row fails (exit 1) unless `--allow-empty`: the empty file is
 * removed and the StepwiseError says why nothing was kept (`why`), so a pipeline does not carry
 * on with 0 rows as if it had data.
 */
export function refuseEmpty(command: string, o: {kept: number; out: string; allowEmpty?: boolean; why: string}): void {
    if (o.kept > 0 || o.allowEmpty) return;
    rmSync(o.out, {force: true});
    throw new StepwiseError(`${command}: no row kept (${o.why}); nothing written to ${o.out} (--allow-empty writes the empty file and exits 0)`);
}

/** List records skipped by `--skip-too-long` (at most 10 lines, then a count). */
/** The notice of a run that read part of its work from an earlier run's cache (`resumed` of the evaluations' results). */
export function reportResumed(stage: string, resumed: {file: string; samples: number} | undefined, noun: string, what: string): void {
    if (resumed) console.error(`${stage}: ${plural(resumed.samples, noun)}${resumed.samples === 1 ? "'s" : "'"} ${what} read from ${resumed.file} (an earlier run's; resumed)`);
}

export function reportTooLong(stage: string, tooLong: ReadonlyArray<{where: string; message: string}>): void {
    for (const t of tooLong.slice(0, 10)) console.error(`${stage}: skipped ${t.message.startsWith(t.where) ? t.message : `${t.where}: ${t.message}`}`);
    if (tooLong.length > 10) console.error(`${stage}: … and ${tooLong.length - 10} more skipped`);
}

/**
 * `--host` values: an IPv4 or IPv6 address or a host name (no scheme, no port), so that a URL or
 * `host:port` given by mistake is named at once.
 */
export function hostOption(value: string): string {
    const v = value.trim();
    if (/^[a-z]+:\/\//i.test(v)) throw new InvalidArgumentError(`expected an address or host name, not a URL: "${value}" (e.g. 127.0.0.1 or 0.0.0.0)`);
    if (isIP(v)) return v;
    if (/^\[.*\]$/.test(v) && isIP(v.slice(1, -1))) return v.slice(1, -1);
    if (/:\d+$/.test(v)) throw new InvalidArgumentError(`expected an address without a port: "${value}" (give the port with --port)`);
    if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(v))
        throw new InvalidArgumentError(`expected an IP address or host name, got "${value}"`);
    return v;
}

/**
 * The options of a command that reads questions and prompts a model with them (sample, decode):
 * --template, --chat, --system, --question-field, --id-field, --answer-field and --limit, in that
 * order; `model` names whose chat template --chat uses, `answerUse` says what the gold answer is
 * for. Read them back with {@link questionInput}.
 */
export function questionOptions<A extends unknown[], O extends OptionValues, G extends OptionValues>(command: Command<A, O, G>, model: string, answerUse = "") {
    return command
        .option("--template <t>", "prompt template; must contain {question}, where each question goes (\\n escapes allowed)", "{question}\\n")
        .option("--chat", `wrap the prompt as a user message in the ${model}'s chat template`)
        .option("--system <text>", "system message (with --chat)")
        .option("--question-field <f>", "question field (default: question, problem, prompt or query)")
        .option("--id-field <f>", "id field (default: id, unique_id, task_id or idx; else q-<first 12 hex of the SHA-256 of the question>, the same in every file)")
        .option("--answer-field <f>", `gold answer field${answerUse} (default: answer, final_answer or gold)`)
        .option("--limit <n>", "only the first n questions", intOption(1));
}

/** The library options (sampleDataset, decodeFile) of the parsed {@link questionOptions}. */
export function questionInput(o: {template: string; chat?: true; system?: string; questionField?: string; idField?: string; answerField?: string; limit?: number}) {
    return {fields: {question: o.questionField, id: o.idField, answer: o.answerField}, template: unescape(o.template), chat: o.chat, system: o.system, limit: o.limit};
}

/**
 * Whether a training resumes, by `--resume` / `--fresh` over `checkpoint` (a file): a checkpoint of
 * an earlier run is never thrown away by default, and a run is never started anew under `--resume`
 * (a mistyped --checkpoint-dir would otherwise train from scratch and overwrite --out). Returns true to
 * resume; false to start fresh (no checkpoint, or `--fresh`, which deletes it first). StepwiseError
 * when both flags are given, when the checkpoint exists and neither is (naming the file and both
 * choices), or with `--resume` and no checkpoint.
 */
export function resumeOrFresh(command: string, checkpoint: string, o: {resume?: boolean; fresh?: boolean}): boolean {
    if (o.resume && o.fresh) throw new StepwiseError(`${command}: --resume and --fresh exclude each other`);
    if (o.resume) {
        if (!existsSync(checkpoint)) throw new StepwiseError(`${command}: --resume: no checkpoint at ${checkpoint} to continue; leave out --resume to start a new run there (or check --checkpoint-dir)`);
        return true;
    }
    if (!existsSync(checkpoint)) return false;
    if (!o.fresh) throw new StepwiseError(`${command}: ${checkpoint} holds an earlier run's checkpoint; --resume continues it, --fresh starts over (and deletes it), or give another --checkpoint-dir`);
    rmSync(checkpoint, {force: true});
    return false;
}

/**
 * The GGUF file a model option names: a file path as given, or the path of a `llama:` or
 * `lab:NAME` spec (the spec parser resolves lab: names from the package's models/ folder, from
 * any working directory, and names the spec in its errors). A model behind a server (openai:, a
 * URL) is refused (`why` says why a file is needed), and so is a spec with parameters when
 * `noParams` (its text says where the settings come from). `prmSpec`: a PRM spec, whose PRM
 * parameters (format=, …) are not the engine's. `what` starts each message (e.g. "serve --prm X").
 */
export async function localModelFile(spec: string, what: string, o: {prmSpec?: boolean; noParams?: string; why?: string} = {}): Promise<string> {
    if (/^[a-z]+:\/\//i.test(spec) || spec.startsWith("openai:"))
        throw new StepwiseError(`${what}: needs a local GGUF (a file, a llama: spec or lab:NAME)${o.why ? `: ${o.why}` : ""}; a model behind a server cannot be used here`);
    if (!spec.startsWith("llama:") && !spec.startsWith("lab:")) return spec;
    const {parseEngineSpec} = await import("../engines/spec.ts");
    const {splitPrmSpec} = o.prmSpec ? await import("../prm/index.ts") : {splitPrmSpec: undefined};
    const parsed = parseEngineSpec(splitPrmSpec ? splitPrmSpec(spec).engineSpec : spec); // names the spec in its errors
    if (o.noParams && spec.includes("?")) throw new StepwiseError(`${what}: ${o.noParams}; give the model as ${spec.slice(0, spec.indexOf("?"))}`);
    return parsed.kind === "llama" ? parsed.path : spec;
}
