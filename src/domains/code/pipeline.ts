/**
 * The code verifier in the pipeline: does a solution's program pass its problem's unit tests?
 *
 * - The program is the code block of the solution text ({@link extractCode}); no code → incorrect.
 * - The problem is found from the record: with a problems file (LeetCodeDataset shape), by the
 *   record's gold, which is the task_id (copy it there: `sample --answer-field task_id`); a
 *   record without gold by its question text (the problem's `question`, `query` or
 *   `problem_description`). A task_id the file lacks, or an unmatched question, is a StepwiseError
 *   naming the file and the id. Without a problems file the question must be a code-lab task,
 *   whose tests are rebuilt from it ({@link parseCodeQuestion}).
 * - Runs are sandboxed (see sandbox.ts); verdicts are cached per (problem, program), since Monte-
 *   Carlo rollouts often write the same program.
 */
import {StepwiseError} from "../../util/errors.ts";
import {basename} from "node:path";
import {openStage} from "../../core/stage.ts";
import {z} from "zod";
import {CodeGradedRecordSchema, parseRecord, readRecords, Text} from "../../core/schemas.ts";

/** What `code grade` reads of a record: a string id and question (and the text field, checked by name). */
const CodeGradeInputSchema = z.looseObject({id: z.string({error: "expected a string"}), question: Text});
import {DEFAULT_LIMITS} from "./sandbox.ts";
import {extractCode} from "./extract.ts";
import {isCodeLabQuestion, parseCodeQuestion} from "./lab/tasks.ts";
import {readCodeProblems} from "./problems.ts";
import {verifyProgram, type CodeStatus, type CodeTestProblem, type VerifyOptions} from "./verifier.ts";

export interface CodeVerifierOptions extends VerifyOptions {
    /** Problems file (JSONL / JSONL.gz, LeetCodeDataset shape); default: code-lab questions only. */
    problems?: string;
}

/** Verdict of one solution text. */
export interface SolutionVerdict {
    status: CodeStatus | "no-code";
    detail: string;
    task_id: string;
}

/** A function from a record (question, gold, solution text) to its verdict. */
export type CodeJudge = (input: {question: string; gold: string | undefined; solution: string}) => Promise<SolutionVerdict>;

/** Build a judge (see the module doc). Throws a StepwiseError on an unreadable problems file. */
export function makeCodeJudge(options: CodeVerifierOptions = {}): CodeJudge {
    const byId = options.problems ? readCodeProblems(options.problems) : undefined;
    const byQuestion = new Map<string, CodeTestProblem>();
    for (const p of byId?.values() ?? []) for (const f of ["question", "query", "problem_description"]) if (typeof p[f] === "string") byQuestion.set((p[f] as string).trim(), p);
    const cache = new Map<string, Promise<SolutionVerdict>>();
    const resolve = (question: string, gold: string | undefined): CodeTestProblem => {
        if (byId) {
            if (gold !== undefined && gold.trim() !== "") {
                const p = byId.get(gold.trim());
                if (!p) throw new StepwiseError(`code verifier: ${options.problems} has no problem with task_id ${JSON.stringify(gold.trim())} (the record's gold must be its problem's task_id: \`sample --answer-field task_id\`)`);
                return p;
            }
            const p = byQuestion.get(question.trim());
            if (!p) throw new StepwiseError(`code verifier: the record has no gold (its problem's task_id) and ${options.problems} has no problem with its question ${JSON.stringify(question.slice(0, 80))}`);
            return p;
        }
        if (!isCodeLabQuestion(question))
            throw new StepwiseError(
                `code verifier: ${JSON.stringify(question.slice(0, 80))} is not a code-lab task; give the problems file (label: --verifier-arg problems=FILE; code grade: --problems FILE)`,
            );
        return parseCodeQuestion(question);
    };
    return ({question, gold, solution}) => {
        const problem = resolve(question, gold);
        const program = extractCode(solution);
        if (program === undefined) return Promise.resolve({status: "no-code", detail: "no code block in the solution", task_id: problem.task_id});
        const key = `${problem.task_id}\u0000${problem.test}\u0000${program}`;
        let v = cache.get(key);
        if (!v) {
            v = verifyProgram(problem, program, options).then((r) => ({status: r.status, detail: r.detail, task_id: problem.task_id}));
            cache.set(key, v);
            if (cache.size > 100_000) cache.delete(cache.keys().next().value!);
        }
        return v;
    };
}

/** A pipeline verifier (label, Best-of-N): true when the program passes. */
export function makeCodeVerifier(options: CodeVerifierOptions = {}): (input: {question: string; gold: string | undefined; solution: string}) => Promise<boolean> {
    const judge = makeCodeJudge(options);
    return async (input) => (await judge(input)).status === "pass";
}

export interface GradeFileOptions extends CodeVerifierOptions {
    /** Samples-like JSONL: records with `id`, `question`, `text` (and `gold`). */
    input: string;
    out: string;
    /** Text field. Default "text". */
    textField?: string;
    concurrency?: number;
    onProgress?: (done: number) => void;
}

/**
 * Add `correct` (boolean), `code_status` and `code_detail` to every record of a samples-like file
 * (so `eval bon --data OUT` grades by the tests), in input order. A stage (src/core/stage.ts):
 * ids already in `out` are skipped; resuming with other inputs or settings is refused.
 */
export async function gradeCodeFile(o: GradeFileOptions): Promise<{written: number; skipped: number; correct: number}> {
    const field = o.textField ?? "text";
    const stage = openStage({
        schema: CodeGradedRecordSchema,
        name: "code-grade",
        out: o.out,
        inputs: [o.input, o.problems],
        settings: {in: basename(o.input), problems: o.problems ? basename(o.problems) : "code-lab", text_field: field, limits: JSON.stringify({...DEFAULT_LIMITS, ...o.limits}), unsafe: !!o.unsafe},
    });
    try {
        const judge = makeCodeJudge(o);
        const rows: Array<{record: z.output<typeof CodeGradeInputSchema>; solution: string; where: string}> = [];
        const solutionSchema = z.object({[field]: Text});
        for await (const {record, where} of readRecords(o.input, CodeGradeInputSchema)) {
            const solution = parseRecord(solutionSchema, record, where)[field];
            if (!stage.done.has(record.id)) rows.push({record, solution, where});
        }
        let correct = 0;
        const r = await stage.runOrdered(
            rows,
            async ({record, solution}) => {
                const v = await judge({question: record.question, gold: typeof record.gold === "string" ? record.gold : undefined, solution});
                if (v.status === "pass") correct++;
                return {...record, correct: v.status === "pass", code_status: v.status, code_detail: v.detail};
            },
            {concurrency: o.concurrency ?? 2, where: (x) => x.where, onProgress: (d) => o.onProgress?.(d)},
        );
        return {written: r.written, skipped: stage.existing.length, correct};
    } finally {
        stage.close();
    }
}
