/**
 * Reading ProcessBench splits: the official JSON arrays (`{id, generator, problem, steps[],
 * final_answer_correct, label}`) or JSONL files of the same shape (lab solutions with exact
 * labels: `{id, problem|question, steps, label, final_answer_correct?}`).
 *
 * A path may be a file (split name = file stem) or a folder (every *.json and *.jsonl in it,
 * sorted by name). `label` is the index of the first wrong step, −1 when every step is correct.
 */
import {existsSync, readdirSync, statSync} from "node:fs";
import {basename, extname, join} from "node:path";
import {StepwiseError} from "../../util/errors.ts";
import {parseJsonlLine} from "../../io/jsonl.ts";
import {readTextFile} from "../../io/text.ts";

/** One labelled solution. */
export interface ProcessSample {
    id: string;
    problem: string;
    steps: string[];
    /** Index of the first wrong step, −1 when all steps are correct. */
    label: number;
    finalAnswerCorrect?: boolean;
    /** `file:line` (JSONL) or `file#index` (JSON array), for error messages. */
    where: string;
}

export interface ProcessSplit {
    name: string;
    file: string;
    samples: ProcessSample[];
}

/** Validate one record. */
export function parseProcessSample(r: Record<string, unknown>, where: string): ProcessSample {
    const id = r.id;
    if ((typeof id !== "string" || id === "") && !(typeof id === "number" && Number.isFinite(id)))
        throw new StepwiseError(`${where}: field "id": expected a non-empty string or a number, got ${id === undefined ? "nothing" : id === null ? "null" : typeof id === "object" ? "an object" : JSON.stringify(id)}`);
    const problem = r.problem ?? r.question;
    if (typeof problem !== "string") throw new StepwiseError(`${where}: missing "problem" or "question" (string)`);
    const steps = r.steps;
    if (!Array.isArray(steps) || steps.some((s) => typeof s !== "string")) throw new StepwiseError(`${where}: "steps" must be an array of strings`);
    const label = r.label;
    if (typeof label !== "number" || !Number.isInteger(label) || label < -1 || label >= steps.length)
        throw new StepwiseError(`${where}: "label" must be −1 or a step index 0..${steps.length - 1}, got ${JSON.stringify(label)}`);
    const fac = r.final_answer_correct;
    if (fac !== undefined && fac !== null && typeof fac !== "boolean") throw new StepwiseError(`${where}: "final_answer_correct" must be true or false`);
    return {id: String(id), problem, steps: steps as string[], label, ...(typeof fac === "boolean" ? {finalAnswerCorrect: fac} : {}), where};
}

/** Read one split file (JSON array, `{data: [...]}`, or JSONL). */
export function readProcessSplit(file: string): ProcessSplit {
    const text = readTextFile(file);
    const samples: ProcessSample[] = [];
    const trimmed = text.trimStart();
    if (trimmed.startsWith("[") || (extname(file).toLowerCase() === ".json" && trimmed.startsWith("{"))) {
        let value: unknown;
        try {
            value = JSON.parse(text);
        } catch (e) {
            throw new StepwiseError(`${file}: malformed JSON (${(e as Error).message.split("\n")[0]})`);
        }
        const rows = Array.isArray(value) ? value : value && typeof value === "object" && Array.isArray((value as {data?: unknown}).data) ? (value as {data: unknown[]}).data : null;
        if (!rows) throw new StepwiseError(`${file}: expected a JSON array of samples (or {data: [...]})`);
        rows.forEach((r, i) => {
            const where = `${file}#${i}`;
            if (!r || typeof r !== "object" || Array.isArray(r)) throw new StepwiseError(`${where}: expected an object`);
            samples.push(parseProcessSample(r as Record<string, unknown>, where));
        });
    } else {
        text.split("\n").forEach((line, i) => {
            if (line.trim() === "") return;
            samples.push(parseProcessSample(parseJsonlLine(line, file, i + 1), `${file}:${i + 1}`));
        });
    }
    if (samples.length === 0) throw new StepwiseError(`${file}: no samples (an empty split would be scored as n = 0)`);
    const seen = new Map<string, string>();
    for (const s of samples) {
        const prev = seen.get(s.id);
        if (prev) throw new StepwiseError(`${s.where}: duplicate id ${JSON.stringify(s.id)} (also at ${prev})`);
        seen.set(s.id, s.where);
    }
    return {name: basename(file, extname(file)), file, samples};
}

/** Expand paths (files, or folders → their *.json / *.jsonl files) and read every split. Split names must be unique. */
export function readProcessSplits(paths: readonly string[]): ProcessSplit[] {
    const files: string[] = [];
    for (const p of paths) {
        if (!existsSync(p)) throw new StepwiseError(`${p}: no such file or folder`);
        if (statSync(p).isDirectory()) {
            const found = readdirSync(p)
                .filter((f) => /\.jsonl?$/i.test(f))
                .sort()
                .map((f) => join(p, f));
            if (found.length === 0) throw new StepwiseError(`${p}: folder has no *.json or *.jsonl files`);
            files.push(...found);
        } else files.push(p);
    }
    const splits = files.map(readProcessSplit);
    const names = new Map<string, string>();
    for (const s of splits) {
        const prev = names.get(s.name);
        if (prev) throw new StepwiseError(`split name "${s.name}" is used by both ${prev} and ${s.file} (split name = file stem)`);
        names.set(s.name, s.file);
    }
    return splits;
}
