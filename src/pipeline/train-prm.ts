/**
 * `stepwise train-prm`: fine-tune a tiny llama model (the lab policy, or a fresh one) into a tag
 * PRM on labelled steps from `stepwise label`.
 *
 * Input layout = the `stepwise-lab` PRM format: BOS + question + "\n" + step₁ + `<|step|>` + step₂ +
 * `<|step|>` …; the loss is the cross-entropy of the softmax restricted to the two label tokens
 * (`<|good|>`, `<|bad|>`) at every tag position, with hard targets (1/0) or soft ones (the MC
 * fraction). Steps after a sample's last labelled step are dropped (the Qwen recipe drops the
 * steps after the first negative). Questions are split into train and validation by a hash of
 * the question id, so no question is on both sides.
 *
 * Branch labels (`branches`: files of `stepwise label-branches`) add one example per candidate at
 * each decision token: the step texts TVD sends the PRM for that candidate, tags after every step,
 * and a target at the last tag only (the candidate's rollout outcome: hard = any rollout right,
 * soft = the fraction). They teach the PRM the values of the tokens TVD chooses between, which
 * sampled solutions almost never contain. The validation then also reports, over held-out
 * decisions whose candidates lead to different outcomes, how often the PRM's pick is a right one
 * (and the sample's own token, for comparison).
 *
 * `objective: "implicit"` trains an implicit PRM instead (Yuan et al., "Free Process Rewards
 * without Process Labels", arXiv 2412.01981; PRIME, arXiv 2502.01456) on policy samples with
 * outcome labels only (`stepwise sample` records, graded by a verifier; no rollouts): input =
 * BOS + the sample's prompt + its generated tokens, reward r(y) = β·Σₜ log πθ(yₜ|y<ₜ)/πref(yₜ|y<ₜ),
 * loss = binary cross-entropy of σ(r) against the outcome. πref is the model the samples were
 * drawn from, and the samples' recorded confidences ARE πref(yₜ|y<ₜ) (raw softmax probability at
 * temperature 1, src/engines/types.ts), so training runs no reference forward pass. The GGUF says
 * what it is (`stepwise.prm.objective` = "implicit", `.beta`, `.reference`: the reference model's
 * path relative to the file, `.template`: the prompt layout), so `llama:FILE` scores with it.
 *
 * With `branches`, the implicit objective learns from decisions instead of outcomes: one example per
 * decision of a branch-label record (input = BOS + prompt + the response so far), a softmax over
 * its candidates' rewards log πθ(c)/πref(c) (β 1; πref = the candidate's recorded probability,
 * given to the trainer as a −log πref logit offset, src/train/batch.ts `PositionTarget.bias`) and a
 * target spread evenly over the right candidates (a listwise contrast of the implicit rewards, the
 * DPO form r = β·log πθ/πref over k alternatives instead of a pair). Before training every
 * reward is 0, so TVD, which keeps the policy's token unless another scores strictly higher,
 * starts out as greedy decoding; training moves the rewards only where decisions taught it to.
 * Decisions without a right candidate teach nothing and are left out; decisions whose
 * candidates are all right pull their rewards together.
 *
 * `objective: "tag+implicit"` trains one model on both: the tag objective on `data` (step labels
 * at step tags) and the branch objective on `branches`, from the reference policy (`init`). Its GGUF
 * (`stepwise.prm.objective` = "tag+implicit") is read both ways by `llama:FILE`
 * (src/prm/implicit.ts `HybridPrmScorer`): step scores from its tags, TVD's candidates from its
 * log-ratios.
 */
import {existsSync, mkdirSync} from "node:fs";
import {writeFileAtomic} from "../io/atomic.ts";
import {dirname, join} from "node:path";
import {StepwiseError} from "../util/errors.ts";
import {BranchLabelRecordSchema, LabelRecordSchema, readRecordsAll, SampleRecordSchema} from "../core/schemas.ts";
import {writeLlamaGguf} from "../gguf/llama.ts";
import {checkGgufHeader} from "../gguf/reader.ts";
import {startingModel} from "../train/start.ts";
import type {LlamaConfig} from "../model/config.ts";
import {CharTokenizer, type CharVocab} from "../model/vocab.ts";
import type {LlamaWeights} from "../model/weights.ts";
import {nextTokenProbs} from "../model/forward.ts";
import {trainLanguageModel, type TrainExample, type TrainLogEntry} from "../train/index.ts";
import {hashString} from "../util/rng.ts";
import type {BranchLabelRecord, LabelRecord} from "../core/records.ts";
import {renderChart} from "../report/plot.ts";
import {PRM_FORMATS} from "../prm/formats.ts";
import {rocAuc} from "../prm/metrics.ts";
import {IMPLICIT_META, implicitPrompt} from "../prm/implicit.ts";
import type {SampleRecord} from "../core/records.ts";
import {parseEngineSpec} from "../engines/spec.ts";
import {makeVerifier} from "./label/verifiers.ts";
import {relative, resolve} from "node:path";
import {inputFilesSetting} from "../core/fingerprint.ts";

export type LabelKind = "hard" | "soft";
/** What the PRM learns: `tag` (good/bad at step tags from step labels), `implicit` (outcome labels or branch decisions, β·log πθ/πref) or `tag+implicit` (both in one model: step labels at tags, branch decisions as token values). */
export type PrmObjective = "tag" | "implicit" | "tag+implicit";

export interface PrmExample {
    id: string;
    questionId: string;
    tokens: number[];
    /** Tag positions and their target P(good). */
    tags: Array<{pos: number; target: number}>;
}

/** Build the PRM example of one labelled sample (null when no step is labelled). */
/**
 * The stepwise-lab PRM input of a question and its step texts: BOS + question + separator, then
 * each step followed by the step tag; `tags` are the tag positions (where the score is read).
 */
export function tagLayout(tokenizer: CharTokenizer, question: string, steps: readonly string[]): {tokens: number[]; tags: number[]} {
    const tokens = tokenizer.encode(question + PRM_FORMATS["stepwise-lab"].questionSeparator, {addBos: true});
    const tags: number[] = [];
    for (const step of steps) {
        tokens.push(...tokenizer.encode(step));
        tags.push(tokens.length);
        tokens.push(tokenizer.vocab.stepTagId);
    }
    return {tokens, tags};
}

export function prmExample(record: Pick<LabelRecord, "id" | "question_id" | "question" | "steps" | "hard" | "soft">, tokenizer: CharTokenizer, labels: LabelKind): PrmExample | null {
    const targets: number[] = [];
    for (let i = 0; i < record.steps.length; i++) {
        const target = labels === "hard" ? record.hard[i] : (record.soft[i] ?? record.hard[i]);
        if (target === null || target === undefined) break;
        targets.push(Number(target));
    }
    if (targets.length === 0) return null;
    const {tokens, tags} = tagLayout(tokenizer, record.question, record.steps.slice(0, targets.length).map((x) => x.text));
    return {id: record.id, questionId: record.question_id ?? record.id.split("#")[0], tokens, tags: tags.map((pos, i) => ({pos, target: targets[i]}))};
}

/**
 * The PRM examples of a branch-label record: one per candidate of each decision with rollouts
 * (n > 0), tagged after every step as the PRM reads it, with a target at the last tag only.
 * `decision` numbers the record's decisions (for the decision-level validation).
 */
export type BranchExample = PrmExample & {record: string; decision: number; candidate: number};

export function branchExamples(record: Pick<BranchLabelRecord, "id" | "question_id" | "question" | "decisions">, tokenizer: CharTokenizer, labels: LabelKind): BranchExample[] {
    const out: BranchExample[] = [];
    record.decisions.forEach((d, di) =>
        d.candidates.forEach((c, ci) => {
            if (c.n === 0 || c.steps.length === 0) return;
            const {tokens, tags} = tagLayout(tokenizer, record.question, c.steps);
            const target = labels === "hard" ? (c.correct > 0 ? 1 : 0) : c.correct / c.n;
            out.push({id: `${record.id}@${d.position}:${ci}`, questionId: record.question_id, tokens, tags: [{pos: tags[tags.length - 1], target}], record: record.id, decision: di, candidate: ci});
        }),
    );
    return out;
}

/** How a PRM picks at held-out decisions whose candidates lead to different outcomes (targets ≥ 0.5 and < 0.5; with hard labels, some rollout right and none right). */
export interface DecisionValidation {
    /** Decisions with at least one right and one wrong candidate. */
    mixed: number;
    /** …where the PRM's highest-scored candidate is a right one (TVD's pick at the released rule). */
    prmRight: number;
    /** …where the sample's own token (candidate 0; the greedy token for greedy samples) is right. */
    ownRight: number;
    /** …where the own token is wrong and the PRM's pick right (what TVD can win), and the reverse (what it can lose): prmRight − ownRight = fixes − breaks. */
    fixes: number;
    breaks: number;
}

export function validateDecisions(config: LlamaConfig, weights: LlamaWeights, vocab: CharVocab, examples: readonly BranchExample[]): DecisionValidation {
    const groups = new Map<string, BranchExample[]>();
    for (const ex of examples) {
        const key = JSON.stringify([ex.record, ex.decision]);
        groups.set(key, [...(groups.get(key) ?? []), ex]);
    }
    const out: DecisionValidation = {mixed: 0, prmRight: 0, ownRight: 0, fixes: 0, breaks: 0};
    const right = (ex: BranchExample) => ex.tags[0].target >= 0.5;
    for (const g of groups.values()) {
        if (!g.some(right) || g.every(right)) continue;
        out.mixed++;
        const scores = g.map((ex) => prmScores(config, weights, vocab, ex)[0]);
        const pick = right(g[scores.indexOf(Math.max(...scores))]);
        const own = g.some((ex) => ex.candidate === 0 && right(ex));
        out.prmRight += +pick;
        out.ownRight += +own;
        out.fixes += +(pick && !own);
        out.breaks += +(own && !pick);
    }
    return out;
}

/** Items split by question into [train, validation] ({@link isValidation}). */
export function splitByQuestion<T extends {questionId: string}>(items: readonly T[], fraction: number): [T[], T[]] {
    const train: T[] = [];
    const val: T[] = [];
    for (const x of items) (isValidation(x.questionId, fraction) ? val : train).push(x);
    return [train, val];
}

export function isValidation(questionId: string, fraction: number): boolean {
    return hashString(`prm-val:${questionId}`) / 0x100000000 < fraction;
}

export interface TrainPrmOptions {
    /** LabelRecord JSONL files (`stepwise label`); SampleRecord files (`stepwise sample`) with objective "implicit". May be empty when `branches` are given. */
    data: string[];
    /**
     * Branch-label files (`stepwise label-branches`). Tag objective: one example per labelled candidate;
     * implicit and tag+implicit: one example per decision, its candidates contrasted (module docs).
     */
    branches?: string[];
    out: string;
    /** Default "hard". Soft targets apply to step labels at tags only; the implicit objective refuses "soft". */
    labels?: LabelKind;
    /** Default "tag". "implicit" and "tag+implicit" need `init` (the reference policy, which drew the samples). */
    objective?: PrmObjective;
    /** Implicit PRM: β of r = β·log πθ/πref. Default 0.05 (Yuan et al.); with `branches` 1, the only value taken there. */
    beta?: number;
    /** Implicit PRM: verifier of the samples' final answers (`lab`, `math`, …: src/pipeline/label/verifiers.ts). Default "math". */
    verifier?: string;
    /** GGUF to start from (e.g. the lab policy); default a fresh model of the given size. */
    init?: string;
    dModel?: number;
    nLayers?: number;
    nHeads?: number;
    steps?: number;
    minutes?: number;
    lr?: number;
    batchSize?: number;
    seed?: number;
    valFraction?: number;
    checkpointDir?: string;
    /** Continue from the checkpoint in checkpointDir if there is one (a resume with other options is refused). Default true. */
    resume?: boolean;
    /** Where the loss curve and metrics go. Default: next to the output model. */
    reportDir?: string;
    quiet?: boolean;
    onLog?: (e: TrainLogEntry) => void;
}

export interface PrmValidation {
    steps: number;
    samples: number;
    /** Step-level ROC-AUC of P(good) against the (hard) labels. */
    auc: number;
    /** Accuracy of P(good) ≥ 0.5 against hard labels. */
    accuracy: number;
    /** Mean binary cross-entropy against the targets. */
    loss: number;
    /** With branch labels: the held-out decisions (see {@link DecisionValidation}). */
    decisions?: DecisionValidation;
}

export interface TrainPrmResult {
    out: string;
    trainExamples: number;
    valExamples: number;
    validation: PrmValidation;
    steps: number;
    losses: number[];
    /** Records (step labels, branch examples or branch decisions) left out because they are longer than the model's context. */
    tooLong: number;
}

/** Score the tag positions of examples with the JS forward pass. */
export function prmScores(config: LlamaConfig, weights: LlamaWeights, vocab: CharVocab, ex: PrmExample): number[] {
    const probs = nextTokenProbs(config, weights, ex.tokens);
    return ex.tags.map(({pos}) => {
        const g = probs[pos][vocab.goodId];
        const b = probs[pos][vocab.badId];
        return g + b > 0 ? g / (g + b) : 0.5;
    });
}

export function validate(config: LlamaConfig, weights: LlamaWeights, vocab: CharVocab, examples: PrmExample[]): PrmValidation {
    const scores: number[] = [];
    const labels: number[] = [];
    let loss = 0;
    for (const ex of examples) {
        const s = prmScores(config, weights, vocab, ex);
        ex.tags.forEach((t, i) => {
            scores.push(s[i]);
            labels.push(t.target >= 0.5 ? 1 : 0);
            const p = Math.min(1 - 1e-7, Math.max(1e-7, s[i]));
            loss -= t.target * Math.log(p) + (1 - t.target) * Math.log(1 - p);
        });
    }
    const correct = scores.filter((s, i) => (s >= 0.5 ? 1 : 0) === labels[i]).length;
    return {steps: scores.length, samples: examples.length, auc: rocAuc(scores, labels), accuracy: scores.length ? correct / scores.length : NaN, loss: scores.length ? loss / scores.length : NaN};
}

/** One implicit-PRM training sample: its tokens, the scored span, Σ log πref over it and the outcome. */
export interface ImplicitExample {
    id: string;
    questionId: string;
    tokens: number[];
    from: number;
    refLogprob: number;
    label: number;
}

/** Smallest probability taken from a record (a recorded 0 would make log πref infinite). */
const MIN_PROB = 1e-12;

/**
 * The implicit-PRM example of one sample: BOS + prompt (tokenized) + the generated token ids as
 * recorded, scored from the first generated token; refLogprob = Σ log(confidence).
 * @throws StepwiseError naming `where` (file:line) when a token lacks its id or confidence, or the
 *   ids do not spell the text.
 */
export function implicitExample(record: Pick<SampleRecord, "id" | "question_id" | "prompt" | "text" | "tokens">, tokenizer: CharTokenizer, label: number, where: string): ImplicitExample {
    if (!Array.isArray(record.tokens) || record.tokens.length === 0) throw new StepwiseError(`${where}: sample has no tokens (needs the \`tokens\` of \`stepwise sample\`)`);
    const prompt = tokenizer.encode(record.prompt, {addBos: true});
    const ids: number[] = [];
    let ref = 0;
    record.tokens.forEach((t, i) => {
        if (!Number.isInteger(t.id)) throw new StepwiseError(`${where}: tokens[${i}] has no token id (sample with the llama engine, or an OpenAI server with tokenIds=true)`);
        if (!(typeof t.confidence === "number" && t.confidence >= 0 && t.confidence <= 1)) throw new StepwiseError(`${where}: tokens[${i}].confidence is ${JSON.stringify(t.confidence)}, expected a probability`);
        ids.push(t.id!);
        ref += Math.log(Math.max(MIN_PROB, t.confidence));
    });
    if (ids.some((id) => id >= tokenizer.vocab.tokens.length)) throw new StepwiseError(`${where}: a token id is outside the model's vocabulary (${tokenizer.vocab.tokens.length} tokens): sampled with another model?`);
    return {id: record.id, questionId: record.question_id, tokens: [...prompt, ...ids], from: prompt.length, refLogprob: ref, label};
}

/** r = β·(Σ log πθ − Σ log πref) of an implicit example under the JS forward pass. */
export function implicitReward(config: LlamaConfig, weights: LlamaWeights, ex: ImplicitExample, beta: number): number {
    const probs = nextTokenProbs(config, weights, ex.tokens);
    let lp = 0;
    for (let i = ex.from; i < ex.tokens.length; i++) lp += Math.log(Math.max(MIN_PROB, probs[i - 1][ex.tokens[i]]));
    return beta * (lp - ex.refLogprob);
}

/** Validation of an implicit PRM: outcome ROC-AUC of r, accuracy of σ(r) ≥ 0.5, BCE. */
export function validateImplicit(config: LlamaConfig, weights: LlamaWeights, examples: ImplicitExample[], beta: number): PrmValidation {
    const rs = examples.map((ex) => implicitReward(config, weights, ex, beta));
    const labels = examples.map((ex) => (ex.label >= 0.5 ? 1 : 0));
    let loss = 0;
    rs.forEach((r, i) => {
        const p = Math.min(1 - 1e-7, Math.max(1e-7, 1 / (1 + Math.exp(-r))));
        loss -= examples[i].label * Math.log(p) + (1 - examples[i].label) * Math.log(1 - p);
    });
    const correct = rs.filter((r, i) => (r >= 0 ? 1 : 0) === labels[i]).length;
    return {steps: rs.length, samples: examples.length, auc: rocAuc(rs, labels), accuracy: rs.length ? correct / rs.length : NaN, loss: rs.length ? loss / rs.length : NaN};
}

/**
 * One decision of a branch-label record as an implicit-PRM example: BOS + prompt + the response so
 * far (tokenized), the candidates' token ids at its last position, their πref (the policy's
 * recorded probabilities) and hard labels. `own` is the sample's own token's index (0).
 */
export interface ImplicitDecision {
    id: string;
    questionId: string;
    tokens: number[];
    ids: number[];
    refLogprobs: number[];
    labels: number[];
}

/**
 * The implicit-PRM decision examples of one branch-label record (`stepwise label-branches`): for
 * every decision, the candidates that are one token after the response so far (others, and repeats
 * of an id, are left out), labelled 1 when a rollout (or the exact truth) found them right.
 * Decisions whose candidates are all wrong carry nothing for a contrast and are left out, and so
 * are decisions whose own token (candidate 0) is left out: index 0 is always the own token.
 * @throws StepwiseError naming `where` when a decision's candidates do not share the response so far.
 */
export function implicitDecisions(record: Pick<BranchLabelRecord, "id" | "question_id" | "prompt" | "decisions">, tokenizer: CharTokenizer, where: string): ImplicitDecision[] {
    const out: ImplicitDecision[] = [];
    const prompt = tokenizer.encode(record.prompt, {addBos: true});
    record.decisions.forEach((d) => {
        const first = d.candidates[0];
        if (!first) return;
        const prefix = first.steps.join("").slice(0, first.steps.join("").length - first.text.length);
        const context = tokenizer.encode(prefix);
        const ids: number[] = [];
        const refLogprobs: number[] = [];
        const labels: number[] = [];
        for (const [ci, c] of d.candidates.entries()) {
            const joined = c.steps.join("");
            if (joined !== prefix + c.text) throw new StepwiseError(`${where}: decision at token ${d.position}, candidate ${ci} (${JSON.stringify(c.text)}): its steps do not continue the response so far of candidate 0`);
            const t = tokenizer.encode(prefix + c.text);
            if (c.n === 0 || t.length !== context.length + 1 || !context.every((x, i) => t[i] === x) || ids.includes(t[context.length])) {
                if (ci === 0) break; // TVD keeps the own token unless another beats it: without it the decision is not TVD's
                continue;
            }
            ids.push(t[context.length]);
            refLogprobs.push(Math.log(Math.max(MIN_PROB, c.prob)));
            labels.push(c.correct > 0 ? 1 : 0);
        }
        if (ids.length < 2 || !labels.includes(1)) return;
        out.push({id: `${record.id}@${d.position}`, questionId: record.question_id, tokens: [...prompt, ...context], ids, refLogprobs, labels});
    });
    return out;
}

/** r_c = log πθ(c) − log πref(c) (β 1) of each candidate of a decision under the JS forward pass. */
export function decisionRewards(config: LlamaConfig, weights: LlamaWeights, d: ImplicitDecision): number[] {
    const probs = nextTokenProbs(config, weights, d.tokens);
    const last = probs[d.tokens.length - 1];
    return d.ids.map((id, c) => Math.log(Math.max(MIN_PROB, last[id])) - d.refLogprobs[c]);
}

/**
 * TVD's pick at held-out mixed decisions under an implicit PRM (the highest reward, ties to the
 * sample's own token as src/search/tvd.ts breaks them) against the sample's own token.
 */
export function validateImplicitDecisions(config: LlamaConfig, weights: LlamaWeights, decisions: readonly ImplicitDecision[]): DecisionValidation {
    const out: DecisionValidation = {mixed: 0, prmRight: 0, ownRight: 0, fixes: 0, breaks: 0};
    for (const d of decisions) {
        if (d.labels.every((l) => l === 1)) continue;
        out.mixed++;
        const r = decisionRewards(config, weights, d);
        let chosen = 0;
        for (let c = 1; c < r.length; c++) if (r[c] > r[chosen]) chosen = c;
        out.prmRight += d.labels[chosen];
        out.ownRight += d.labels[0];
        out.fixes += +(d.labels[chosen] === 1 && d.labels[0] === 0);
        out.breaks += +(d.labels[chosen] === 0 && d.labels[0] === 1);
    }
    return out;
}

/** The prompt layout shared by every sample: "{question}" + what follows it, e.g. "{question}\n". */
function templateOf(record: Pick<SampleRecord, "question" | "prompt">, where: string): string {
    const at = typeof record.prompt === "string" && typeof record.question === "string" ? record.prompt.indexOf(record.question) : -1;
    if (at < 0) throw new StepwiseError(`${where}: the prompt does not contain the question; the implicit PRM needs prompts laid out as a template around the question`);
    return record.prompt.slice(0, at) + "{question}" + record.prompt.slice(at + record.question.length);
}

/** The implicit decision examples of branch-label files, each record checked by `drawnBy` (its labelling engine) and `sameTemplate` (its prompt layout). */
async function readDecisions(
    files: readonly string[],
    tokenizer: CharTokenizer,
    contextLength: number,
    drawnBy: (engine: unknown, where: string, what: string) => void,
    sameTemplate: (r: Pick<SampleRecord, "question" | "prompt">, where: string) => void,
): Promise<{decisions: ImplicitDecision[]; tooLong: number}> {
    const decisions: ImplicitDecision[] = [];
    let tooLong = 0;
    for (const file of files) {
        const records = await readRecordsAll(file, BranchLabelRecordSchema);
        for (const [i, r] of records.entries()) {
            const where = `${file}:${i + 1}`;
            drawnBy(r.rollout_engine, where, "labelled with");
            if (r.decisions.length) sameTemplate(r, where);
            for (const d of implicitDecisions(r, tokenizer, where)) if (d.tokens.length <= contextLength) decisions.push(d);
            else tooLong++;
        }
    }
    return {decisions, tooLong};
}

/** The listwise contrast of a decision: softmax over the candidates' log πθ/πref (bias −log πref) towards the right ones, uniformly. */
function decisionTarget(d: ImplicitDecision): TrainExample {
    const right = d.labels.reduce((a, b) => a + b, 0);
    return {tokens: d.tokens, targets: [{pos: d.tokens.length - 1, tokenIds: d.ids, probs: d.labels.map((l) => l / right), bias: d.refLogprobs.map((x) => -x)}]};
}

/** Checks that a record was drawn (or labelled) by the reference model, naming `where`. */
function referenceCheck(init: string): (engine: unknown, where: string, what: string) => void {
    const reference = resolve(init);
    return (engine, where, what) => {
        let drawn: ReturnType<typeof parseEngineSpec> | undefined;
        try {
            drawn = typeof engine === "string" && /^(llama|lab):/.test(engine) ? parseEngineSpec(engine) : undefined; // lab:NAME is the llama: spec of a shipped model
        } catch (e) {
            throw new StepwiseError(`${where}: ${(e as Error).message}`);
        }
        if (drawn?.kind === "llama" && resolve(drawn.path) !== reference)
            throw new StepwiseError(`${where}: ${what} ${engine}, but the reference (--init) is ${init}: the recorded probabilities are πref only when the reference drew them`);
    };
}

/** Keeps the prompt layout of the first record and refuses records laid out otherwise. */
function templateKeeper(): {check: (r: Pick<SampleRecord, "question" | "prompt">, where: string) => void; get: () => string | undefined} {
    let template: string | undefined;
    return {
        check: (r, where) => {
            const t = templateOf(r, where);
            if (template === undefined) template = t;
            else if (t !== template) throw new StepwiseError(`${where}: prompt layout ${JSON.stringify(t)} differs from the first record's ${JSON.stringify(template)}`);
        },
        get: () => template,
    };
}

async function trainImplicitPrm(o: TrainPrmOptions): Promise<TrainPrmResult> {
    if (!o.init) throw new StepwiseError("train-prm --objective implicit needs --init: the reference policy (the model that drew the samples), which the PRM starts from");
    const branchFiles = o.branches ?? [];
    const beta = o.beta ?? (branchFiles.length ? 1 : 0.05);
    if (!(beta > 0 && Number.isFinite(beta))) throw new StepwiseError(`--beta: expected a positive number, got ${o.beta}`);
    if (branchFiles.length && beta !== 1)
        throw new StepwiseError(`--beta ${beta} with --branches: the branch objective contrasts candidates' log πθ/πref at β 1 (a softmax over them), so β must be 1 (leave --beta out)`);
    if (o.data.length === 0 && branchFiles.length === 0) throw new StepwiseError("train-prm --objective implicit needs --data (graded samples) or --branches (branch labels)");
    if (o.labels === "soft") throw new StepwiseError("--labels soft with --objective implicit: its outcome and decision labels are hard (right or wrong); drop --labels");
    const {config, init, vocab} = await startingModel({init: o.init});
    const tokenizer = new CharTokenizer(vocab);
    const verify = await makeVerifier(o.verifier ?? "math");
    const reference = resolve(o.init);
    const drawnBy = referenceCheck(o.init);
    const examples: ImplicitExample[] = [];
    const layout = templateKeeper();
    const sameTemplate = layout.check;
    let tooLong = 0;
    for (const file of o.data) {
        const records: SampleRecord[] = await readRecordsAll(file, SampleRecordSchema);
        for (const [i, r] of records.entries()) {
            const where = `${file}:${i + 1}`;
            if (typeof r.text !== "string" || !Array.isArray(r.tokens)) throw new StepwiseError(`${where}: not a sample record (needs text and tokens; use the output of \`stepwise sample\`)`);
            drawnBy(r.engine, where, "sampled with");
            sameTemplate(r, where);
            let ok: boolean;
            try {
                ok = r.finish_reason !== "length" && (await verify({question: r.question, gold: r.gold, solution: r.text}));
            } catch (e) {
                if (e instanceof StepwiseError) throw new StepwiseError(`${where}: ${e.message}`);
                throw e;
            }
            const ex = implicitExample(r, tokenizer, ok ? 1 : 0, where);
            if (ex.tokens.length <= config.contextLength) examples.push(ex);
            else tooLong++;
        }
    }
    const read = await readDecisions(branchFiles, tokenizer, config.contextLength, drawnBy, sameTemplate);
    const decisions = read.decisions;
    tooLong += read.tooLong;
    const valFraction = o.valFraction ?? 0.1;
    const [train, allVal] = splitByQuestion(examples, valFraction);
    const val = allVal.slice(0, 400);
    const [decisionTrain, decisionVal] = splitByQuestion(decisions, valFraction);
    if (train.length === 0 && decisionTrain.length === 0) throw new StepwiseError(`nothing to train on in ${[...o.data, ...branchFiles].join(", ")} (branch decisions need a right candidate and another candidate)`);
    const positives = train.filter((e) => e.label === 1).length;
    if (train.length && (positives === 0 || positives === train.length))
        throw new StepwiseError(`train-prm --objective implicit: all ${train.length} training samples are ${positives ? "right" : "wrong"} by the ${o.verifier ?? "math"} verifier; the outcome loss needs both (wrong --verifier?)`);
    const seqLen = Math.max(...train.map((e) => e.tokens.length), ...decisionTrain.map((d) => d.tokens.length));
    const toTrain = (ex: ImplicitExample): TrainExample => ({tokens: ex.tokens, sequence: {from: ex.from, to: ex.tokens.length, refLogprob: ex.refLogprob, beta, label: ex.label}});
    const log: TrainLogEntry[] = [];
    const result = await trainLanguageModel({config, initWeights: init, ...runOptions(o, [...train.map(toTrain), ...decisionTrain.map(decisionTarget)], seqLen, log, 1e-4), groupSize: 4});
    mkdirSync(dirname(o.out) || ".", {recursive: true});
    writeLlamaGguf(o.out, {
        config,
        weights: result.weights,
        vocab,
        kind: "prm",
        name: "stepwise-lab-implicit-prm",
        extraMetadata: {
            [IMPLICIT_META.objective]: "implicit",
            [IMPLICIT_META.beta]: beta,
            [IMPLICIT_META.reference]: relative(dirname(resolve(o.out)), reference),
            [IMPLICIT_META.template]: layout.get() ?? "{question}\n",
        },
    });
    const validation: PrmValidation = val.length ? validateImplicit(config, result.weights, val, beta) : {steps: 0, samples: 0, auc: NaN, accuracy: NaN, loss: NaN};
    if (decisionVal.length) validation.decisions = validateImplicitDecisions(config, result.weights, decisionVal);
    const reportDir = o.reportDir ?? dirname(o.out);
    const base = join(reportDir, o.out.split("/").pop()!.replace(/\.gguf$/, ""));
    writeFileAtomic(
        `${base}.train.json`,
        JSON.stringify(
            {
                objective: "implicit",
                data: o.data,
                ...(branchFiles.length ? {branches: branchFiles, branch_train_decisions: decisionTrain.length, branch_val_decisions: decisionVal.length} : {}),
                beta,
                verifier: o.verifier ?? "math",
                init: o.init,
                train_examples: train.length + decisionTrain.length,
                train_positive: positives,
                val_examples: val.length,
                too_long: tooLong,
                steps: result.steps,
                validation,
                log,
            },
            null,
            2,
        ) + "\n",
    );
    return {out: o.out, trainExamples: train.length + decisionTrain.length, valExamples: val.length + decisionVal.length, validation, steps: result.steps, losses: result.losses, tooLong};
}

export async function trainPrm(o: TrainPrmOptions): Promise<TrainPrmResult> {
    if ((o.objective ?? "tag") === "implicit") return trainImplicitPrm(o);
    if (o.objective !== undefined && o.objective !== "tag" && o.objective !== "tag+implicit") throw new StepwiseError(`--objective: expected tag, implicit or tag+implicit, got "${o.objective}"`);
    const hybrid = o.objective === "tag+implicit";
    if (hybrid && !o.init) throw new StepwiseError("train-prm --objective tag+implicit needs --init: the reference policy (the model that drew the branch samples), which the PRM starts from");
    if (!hybrid && o.beta !== undefined) throw new StepwiseError(`--beta ${o.beta} with --objective tag: a tag PRM has no β (it is for --objective implicit or tag+implicit)`);
    if (hybrid && o.beta !== undefined && o.beta !== 1) throw new StepwiseError(`--beta ${o.beta} with --objective tag+implicit: its token values contrast candidates' log πθ/πref at β 1, so β must be 1 (leave --beta out)`);
    if (hybrid && !(o.branches ?? []).length) throw new StepwiseError("train-prm --objective tag+implicit needs --branches (the decisions its token values learn from) besides --data (step labels)");
    if (hybrid && o.data.length === 0) throw new StepwiseError("train-prm --objective tag+implicit needs --data (the step labels its tags learn from) besides --branches");
    // A pair (`stepwise pair-prm`, e.g. models/lab-prm.gguf) holds an implicit PRM's weights; its step scores are another file's.
    const pairedTag = o.init && existsSync(o.init) ? checkGgufHeader(o.init).strings[IMPLICIT_META.tagModel] : undefined;
    if (pairedTag !== undefined)
        throw new StepwiseError(`--init ${o.init}: a pair of PRMs (stepwise pair-prm) holding an implicit PRM's weights, whose step scores are ${pairedTag} (GGUF metadata ${IMPLICIT_META.tagModel}, beside it); to fine-tune the tag PRM give --init with that file`);
    const labels = o.labels ?? "hard";
    const {config, init, vocab} = await startingModel({init: o.init, dModel: o.dModel, nLayers: o.nLayers, nHeads: o.nHeads, seed: o.seed});
    const tokenizer = new CharTokenizer(vocab);
    const examples: PrmExample[] = [];
    let tooLong = 0; // records longer than the context: left out and counted (train.json too_long, the CLI's summary)
    for (const file of o.data) {
        const records = await readRecordsAll(file, LabelRecordSchema);
        records.forEach((r) => {
            const ex = prmExample(r, tokenizer, labels);
            if (ex && ex.tokens.length <= config.contextLength) examples.push(ex);
            else if (ex) tooLong++;
        });
    }
    const valFraction = o.valFraction ?? 0.1;
    const branch: BranchExample[] = [];
    // tag+implicit: the branch files teach token values (decision contrasts), not tag examples.
    const layout = templateKeeper();
    const decisions = hybrid ? await readDecisions(o.branches ?? [], tokenizer, config.contextLength, referenceCheck(o.init!), layout.check) : {decisions: [], tooLong: 0};
    const [decisionTrain, decisionVal] = splitByQuestion(decisions.decisions, valFraction);
    for (const file of hybrid ? [] : (o.branches ?? [])) {
        const records = await readRecordsAll(file, BranchLabelRecordSchema);
        for (const r of records)
            for (const ex of branchExamples(r, tokenizer, labels)) {
                if (ex.tokens.length <= config.contextLength) branch.push(ex);
                else tooLong++;
            }
    }
    tooLong += decisions.tooLong;
    const [branchTrain, branchVal] = splitByQuestion(branch, valFraction);
    examples.push(...branchTrain);
    const [train, val] = splitByQuestion(examples, valFraction);
    if (train.length === 0 && decisionTrain.length === 0) throw new StepwiseError(`no labelled steps to train on in ${[...o.data, ...(o.branches ?? [])].join(", ")}`);
    // Both readings of a tag+implicit file must be trained: an untrained one would be read as if it were.
    if (hybrid && train.length === 0) throw new StepwiseError(`train-prm --objective tag+implicit: no labelled steps to train its tags on in ${o.data.join(", ")}`);
    if (hybrid && decisionTrain.length === 0)
        throw new StepwiseError(`train-prm --objective tag+implicit: no branch decisions to train its token values on in ${(o.branches ?? []).join(", ")} (a decision needs a right candidate, another candidate and the own token, each one token after the response so far)`);
    const seqLen = Math.max(...train.map((e) => e.tokens.length));
    const toTrain = (ex: PrmExample): TrainExample => ({
        tokens: ex.tokens,
        lossMask: {start: 0, end: 0},
        targets: ex.tags.map((t) => ({pos: t.pos, tokenIds: [vocab.goodId, vocab.badId], probs: [t.target, 1 - t.target]})),
    });
    const log: TrainLogEntry[] = [];
    const all = [...train.map(toTrain), ...decisionTrain.map(decisionTarget)];
    const result = await trainLanguageModel({config, initWeights: init, ...runOptions(o, all, Math.max(seqLen, ...decisionTrain.map((d) => d.tokens.length)), log, 1e-3)});
    mkdirSync(dirname(o.out) || ".", {recursive: true});
    writeLlamaGguf(o.out, {
        config,
        weights: result.weights,
        vocab,
        kind: "prm",
        name: "stepwise-lab-prm",
        ...(hybrid
            ? {
                  extraMetadata: {
                      [IMPLICIT_META.objective]: "tag+implicit",
                      [IMPLICIT_META.beta]: 1,
                      [IMPLICIT_META.reference]: relative(dirname(resolve(o.out)), resolve(o.init!)),
                      [IMPLICIT_META.template]: layout.get() ?? "{question}\n",
                  },
              }
            : {}),
    });
    const validation = validate(config, result.weights, vocab, val);
    if (branchVal.length) validation.decisions = validateDecisions(config, result.weights, vocab, branchVal);
    if (decisionVal.length) validation.decisions = validateImplicitDecisions(config, result.weights, decisionVal);
    const reportDir = o.reportDir ?? dirname(o.out);
    const base = join(reportDir, o.out.split("/").pop()!.replace(/\.gguf$/, ""));
    writeFileAtomic(`${base}.train.json`, JSON.stringify({objective: hybrid ? "tag+implicit" : "tag", data: o.data, ...(o.branches?.length ? {branches: o.branches, ...(hybrid ? {branch_train_decisions: decisionTrain.length, branch_val_decisions: decisionVal.length} : {branch_train_examples: branch.length - branchVal.length})} : {}), labels, init: o.init ?? null, train_examples: train.length + decisionTrain.length, val_examples: val.length + decisionVal.length, too_long: tooLong, steps: result.steps, validation, log}, null, 2) + "\n");
    if (log.length > 1)
        await renderChart(
            {
                title: `PRM training loss (${labels} labels)`,
                width: 480,
                height: 220,
                data: {values: log.map((e) => ({step: e.step, loss: e.loss}))},
                mark: {type: "line", point: true},
                encoding: {x: {field: "step", type: "quantitative"}, y: {field: "loss", type: "quantitative", title: "cross-entropy"}},
            },
            `${base}.loss`,
        );
    return {out: o.out, trainExamples: train.length + decisionTrain.length, valExamples: val.length + decisionVal.length, validation, steps: result.steps, losses: result.losses, tooLong};
}

/**
 * The training-call options both objectives share: batches drawn uniformly from `examples`, the
 * run settings of `o` (steps, minutes, lr default `lr`, batch 16, seed 0, checkpoints, quiet) and a
 * log that collects every entry into `log` and forwards it to `o.onLog`.
 */
function runOptions(
    o: Pick<TrainPrmOptions, "data" | "branches" | "labels" | "objective" | "beta" | "verifier" | "init" | "valFraction" | "steps" | "minutes" | "lr" | "batchSize" | "seed" | "checkpointDir" | "resume" | "quiet" | "onLog">,
    examples: readonly TrainExample[],
    seqLen: number,
    log: TrainLogEntry[],
    lr: number,
) {
    return {
        batchSource: (rng: {int(n: number): number}, n: number) => Array.from({length: n}, () => examples[rng.int(examples.length)]),
        steps: o.steps,
        minutes: o.minutes,
        lr: o.lr ?? lr,
        batchSize: o.batchSize ?? 16,
        seqLen,
        seed: o.seed ?? 0,
        checkpointDir: o.checkpointDir,
        resume: o.resume,
        // What the examples are made of: a resume with other data, labels or objective is refused, naming them.
        settings: {
            data: inputFilesSetting(o.data),
            branches: inputFilesSetting(o.branches ?? []),
            labels: o.labels ?? "hard",
            objective: o.objective ?? "tag",
            // As resolved: a default given explicitly is the same run; a setting the objective does not use is null.
            beta: (o.objective ?? "tag") === "tag" ? null : (o.beta ?? ((o.branches ?? []).length ? 1 : 0.05)),
            verifier: o.objective === "implicit" && o.data.length ? (o.verifier ?? "math") : null,
            init: o.init ? inputFilesSetting([o.init]) : null,
            valFraction: o.valFraction ?? 0.1,
        },
        quiet: o.quiet,
        onLog: (e: TrainLogEntry) => {
            log.push(e);
            o.onLog?.(e);
        },
    };
}
