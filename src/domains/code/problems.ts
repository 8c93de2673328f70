/**
 * Reading code problems (LeetCodeDataset shape, `.jsonl` or `.jsonl.gz`) and candidates
 * (`{id, task_id, completion}` JSONL). Errors name the file, line and field.
 */
import {existsSync, readFileSync} from "node:fs";
import {gunzipSync} from "node:zlib";
import {StepwiseError} from "../../util/errors.ts";
import {parseJsonlLine} from "../../io/jsonl.ts";
import {asCodeCandidate, asCodeProblem, type CodeCandidate, type CodeTestProblem} from "./verifier.ts";

/** The non-blank lines of a text or gzipped JSONL file, with their 1-based numbers, parsed. */
export function readJsonlMaybeGz(file: string): Array<{record: Record<string, unknown>; where: string}> {
    if (!existsSync(file)) throw new StepwiseError(`${file}: no such file`);
    const buf = readFileSync(file);
    const text = (buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : buf).toString("utf8");
    const out: Array<{record: Record<string, unknown>; where: string}> = [];
    text.split("\n").forEach((line, i) => {
        if (line.trim()) out.push({record: parseJsonlLine(line, file, i + 1), where: `${file}:${i + 1}`});
    });
    return out;
}

/** Problems by task_id. Duplicate task_ids are an error. */
export function readCodeProblems(file: string): Map<string, CodeTestProblem & Record<string, unknown>> {
    const map = new Map<string, CodeTestProblem & Record<string, unknown>>();
    for (const {record, where} of readJsonlMaybeGz(file)) {
        const p = asCodeProblem(record, where);
        if (map.has(p.task_id)) throw new StepwiseError(`${where}: duplicate task_id "${p.task_id}"`);
        map.set(p.task_id, {...record, ...p});
    }
    return map;
}

/** Candidates in file order. Duplicate ids are an error. */
export function readCodeCandidates(file: string): CodeCandidate[] {
    const seen = new Set<string>();
    return readJsonlMaybeGz(file).map(({record, where}) => {
        const c = asCodeCandidate(record, where);
        if (seen.has(c.id)) throw new StepwiseError(`${where}: duplicate id "${c.id}"`);
        seen.add(c.id);
        return c;
    });
}
