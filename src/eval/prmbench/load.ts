/**
 * Reading PRMBench files and expanding them into the items a PRM judges, as the reference task
 * does (ssmisya/PRMBench `mr_eval/tasks/prmtest_classified_subset400/task.py`, `load_data_function`).
 *
 * A row is `{idx, modified_question|question, modified_process[], error_steps[] (1-based),
 * classification, original_question?, original_process[]?, ...}`. Rows are read in file order;
 * each row gives the item `<classification>_<idx>` (question: `modified_question`, falling back to
 * `question`; steps: `modified_process`; its `error_steps`). A row of classification
 * {@link CORRECT_SOURCE} ("redundency", the reference's spelling) first gives the item
 * `correct_<idx>` (question: `original_question`, else `question`; steps: `original_process`; no
 * error steps; classification {@link CORRECT}), so every original process is judged once. An id
 * already made is not made again (the reference keeps the first); here a repeat must be identical
 * to the first (it is then dropped and listed in `duplicates`), a differing one is an error.
 *
 * Error steps past the last step are kept: the reference's metric only looks at the steps the
 * model labelled, so they count nowhere (11 rows of the 394-line subset have one).
 *
 * Errors (StepwiseError, naming `file:line` and the field): malformed JSON, a missing or
 * mistyped field, an empty process, an error step below 1, a differing repeat, no rows.
 */
import {existsSync, readdirSync, statSync} from "node:fs";
import {join} from "node:path";
import {StepwiseError} from "../../util/errors.ts";
import {parseJsonlLine} from "../../io/jsonl.ts";
import {readTextFile} from "../../io/text.ts";

/** The classification of the items made from original processes. */
export const CORRECT = "correct";
/** The classification whose rows also give a `correct_<idx>` item (the reference's spelling). */
export const CORRECT_SOURCE = "redundency";

/**
 * PRMBench's nine categories in the paper's three groups (arXiv 2501.03124, Table 2; the reference's
 * spellings, "redundency" included). Any other classification is scored as a category of its own and
 * listed in {@link PrmBenchData.unknownClassifications}.
 */
export const CATEGORY_GROUPS: ReadonlyArray<{group: string; categories: readonly string[]}> = [
    {group: "simplicity", categories: ["redundency", "circular"]},
    {group: "soundness", categories: ["counterfactual", "step_contradiction", "domain_inconsistency", "confidence"]},
    {group: "sensitivity", categories: ["missing_condition", "deception", "multi_solutions"]},
];

/** One item a PRM judges. */
export interface PrmBenchItem {
    /** `<classification>_<idx>` or `correct_<idx>`: the reference's ids, which predictions are keyed by. */
    id: string;
    /** The row's `idx`. */
    sourceIdx: string;
    classification: string;
    question: string;
    steps: string[];
    /** Wrong steps, 1-based as in the file (may name steps past the last one); empty for `correct_` items. */
    errorSteps: number[];
    /** The file the row came from. */
    file: string;
    /** `file:line` of the row (for `correct_` items: the row they were made from). */
    where: string;
}

export interface PrmBenchData {
    /** Items in the reference's order. */
    items: PrmBenchItem[];
    /** The files read, in order. */
    files: string[];
    /** Rows read. */
    rows: number;
    /** Repeated ids, identical to their first occurrence, that were dropped. */
    duplicates: Array<{id: string; where: string; first: string}>;
    /**
     * Items naming wrong steps past their last step (kept: the reference's metric counts those steps
     * nowhere), with the largest such step and the item's step count.
     */
    pastLastStep: Array<{id: string; where: string; errorStep: number; steps: number}>;
    /** Classifications that are none of {@link CATEGORY_GROUPS}' (nor `correct`), each with its first row. */
    unknownClassifications: Array<{name: string; where: string}>;
}

function stringField(r: Record<string, unknown>, names: string[], where: string): string {
    for (const n of names) {
        const v = r[n];
        if (v === undefined || v === null) continue;
        if (typeof v !== "string") throw new StepwiseError(`${where}: field "${n}" must be a string, got ${Array.isArray(v) ? "an array" : typeof v}`);
        return v;
    }
    throw new StepwiseError(`${where}: missing ${names.map((n) => `"${n}"`).join(" or ")} (string)`);
}

function processField(r: Record<string, unknown>, name: string, where: string): string[] {
    const v = r[name];
    if (!Array.isArray(v)) throw new StepwiseError(`${where}: field "${name}" must be an array of strings, got ${v === undefined ? "nothing" : v === null ? "null" : typeof v}`);
    const bad = v.findIndex((s) => typeof s !== "string");
    if (bad >= 0) throw new StepwiseError(`${where}: field "${name}"[${bad}] must be a string, got ${JSON.stringify(v[bad])}`);
    if (v.length === 0) throw new StepwiseError(`${where}: field "${name}" has no steps`);
    return v as string[];
}

function errorStepsField(r: Record<string, unknown>, where: string): number[] {
    const v = r.error_steps;
    if (!Array.isArray(v)) throw new StepwiseError(`${where}: field "error_steps" must be an array of 1-based step numbers, got ${v === undefined ? "nothing" : v === null ? "null" : typeof v}`);
    v.forEach((s, i) => {
        if (typeof s !== "number" || !Number.isInteger(s) || s < 1) throw new StepwiseError(`${where}: field "error_steps"[${i}] must be a step number ≥ 1 (1-based), got ${JSON.stringify(s)}`);
    });
    return v as number[];
}

const sameItem = (a: PrmBenchItem, b: PrmBenchItem): boolean =>
    a.classification === b.classification && a.question === b.question && JSON.stringify(a.steps) === JSON.stringify(b.steps) && JSON.stringify(a.errorSteps) === JSON.stringify(b.errorSteps);

/** Expand paths (files, or folders → their *.jsonl files sorted by name) into files. */
function expandPaths(paths: readonly string[]): string[] {
    const files: string[] = [];
    for (const p of paths) {
        if (!existsSync(p)) throw new StepwiseError(`${p}: no such file or folder`);
        if (statSync(p).isDirectory()) {
            const found = readdirSync(p)
                .filter((f) => /\.jsonl$/i.test(f))
                .sort()
                .map((f) => join(p, f));
            if (found.length === 0) throw new StepwiseError(`${p}: folder has no *.jsonl files`);
            files.push(...found);
        } else files.push(p);
    }
    return files;
}

/** Read PRMBench JSONL files or folders of them and expand the rows into items (see the module docs). */
export function readPrmBench(paths: readonly string[]): PrmBenchData {
    const files = expandPaths(paths);
    const items: PrmBenchItem[] = [];
    const byId = new Map<string, PrmBenchItem>();
    const duplicates: PrmBenchData["duplicates"] = [];
    let rows = 0;
    const add = (item: PrmBenchItem): void => {
        const prev = byId.get(item.id);
        if (!prev) {
            byId.set(item.id, item);
            items.push(item);
        } else if (sameItem(prev, item)) duplicates.push({id: item.id, where: item.where, first: prev.where});
        else throw new StepwiseError(`${item.where}: item ${JSON.stringify(item.id)} is also made by ${prev.where}, with a different question, process or error steps`);
    };
    for (const file of files) {
        readTextFile(file)
            .split("\n")
            .forEach((line, i) => {
                if (line.trim() === "") return;
                const where = `${file}:${i + 1}`;
                const r = parseJsonlLine(line, file, i + 1);
                rows++;
                const rawIdx = r.idx;
                if ((typeof rawIdx !== "string" || rawIdx === "") && !(typeof rawIdx === "number" && Number.isFinite(rawIdx)))
                    throw new StepwiseError(`${where}: field "idx" must be a non-empty string or a number, got ${rawIdx === undefined ? "nothing" : JSON.stringify(rawIdx)}`);
                const idx = String(rawIdx);
                const classification = stringField(r, ["classification"], where);
                if (classification === "") throw new StepwiseError(`${where}: field "classification" is empty`);
                if (classification === CORRECT_SOURCE)
                    add({
                        id: `${CORRECT}_${idx}`,
                        sourceIdx: idx,
                        classification: CORRECT,
                        question: stringField(r, ["original_question", "question"], where),
                        steps: processField(r, "original_process", where),
                        errorSteps: [],
                        file,
                        where,
                    });
                add({
                    id: `${classification}_${idx}`,
                    sourceIdx: idx,
                    classification,
                    question: stringField(r, ["modified_question", "question"], where),
                    steps: processField(r, "modified_process", where),
                    errorSteps: errorStepsField(r, where),
                    file,
                    where,
                });
            });
    }
    if (rows === 0) throw new StepwiseError(`${files.join(", ")}: no PRMBench rows`);
    const pastLastStep = items.filter((i) => i.errorSteps.some((k) => k > i.steps.length)).map((i) => ({id: i.id, where: i.where, errorStep: Math.max(...i.errorSteps), steps: i.steps.length}));
    const known = new Set([CORRECT, ...CATEGORY_GROUPS.flatMap((g) => g.categories)]);
    const unknownClassifications = [...new Set(items.map((i) => i.classification).filter((c) => !known.has(c)))].map((name) => ({name, where: items.find((i) => i.classification === name)!.where}));
    return {items, files, rows, duplicates, pastLastStep, unknownClassifications};
}

/**
 * The first `n` items of each classification (`correct` included), in item order: a quick run
 * that still covers every category.
 */
export function limitPerClassification(items: readonly PrmBenchItem[], n: number): PrmBenchItem[] {
    const seen = new Map<string, number>();
    return items.filter((it) => {
        const k = seen.get(it.classification) ?? 0;
        seen.set(it.classification, k + 1);
        return k < n;
    });
}
