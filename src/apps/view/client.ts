/// <reference lib="dom" />
/**
 * The viewer page's script. It runs in the browser: {@link viewerClient} is serialised with
 * `Function.prototype.toString` into the page, so it must not use anything from its module
 * scope (no imports, no outer variables). Types are for checking only.
 *
 * Every model output is untrusted text: the page builds its DOM with text nodes only
 * (`textContent`, `createTextNode`), never `innerHTML`, so `<script>` or `<img onerror>` in a
 * sample is shown as text and never runs.
 *
 * Long entries stay responsive: tokens are drawn {@link TOKENS_SHOWN} at a time and step rows
 * {@link ROWS_SHOWN} at a time, each batch behind a "show more" button (counts over the whole
 * entry, such as the number of steps at τ, are computed on the data, not on the DOM); the raw
 * records are serialised only when their section is opened, and cut at {@link RAW_CHARS}.
 */
import type {cutSpans as CutSpans} from "../../steps/spans.ts";

/** Tokens drawn per batch (the first batch at once, then one batch per "show more"). */
export const TOKENS_SHOWN = 2000;
/** Rows of a steps table drawn per batch. */
export const ROWS_SHOWN = 300;
/** Characters of one raw record shown (the rest is cut, with a note). */
export const RAW_CHARS = 200_000;

/** Where the page gets its data: the `stepwise view` server, or files of a static export. */
export type ViewerMode = "server" | "static";

/**
 * The page script. `cutSpans` is src/steps' step rule (serialised into the page with it), so the
 * live τ splits tokens exactly as `stepwise split --strategy adaptive` does.
 */
export function viewerClient(mode: ViewerMode, cutSpans: typeof CutSpans): void {
    type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any
    const AGG = ["min", "max", "mean", "product", "last"];
    const PAGE = 50;
    // Mirrors of TOKENS_SHOWN, ROWS_SHOWN and RAW_CHARS (this function is serialised alone).
    const TOKENS = 2000;
    const ROWS = 300;
    const RAW = 200_000;
    const state = {offset: 0, q: "", filter: "all", low: 0.5, total: 0, key: "", tau: NaN, boundaries: "live"};
    const W = window as Json;

    // ---- data sources -------------------------------------------------------------------
    const staticData = (): Json => W.STEPWISE_VIEW;
    const loadScript = (src: string) =>
        new Promise<void>((resolve, reject) => {
            const s = document.createElement("script");
            s.src = src;
            s.onload = () => resolve();
            s.onerror = () => reject(new Error(`cannot load ${src}`));
            document.head.appendChild(s);
        });
    const api = async (path: string, params: Record<string, string | number>): Promise<Json> => {
        const qs = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString();
        const res = await fetch(`${path}?${qs}`);
        const body = await res.json();
        if (!res.ok) throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
        return body;
    };
    const source = {
        async meta(): Promise<Json> {
            if (mode === "server") return api("api/meta", {});
            return staticData().meta;
        },
        async list(): Promise<Json> {
            if (mode === "server") return api("api/list", {offset: state.offset, limit: PAGE, q: state.q, filter: state.filter, low: state.low});
            const q = state.q.trim().toLowerCase();
            const all: Json[] = staticData().summaries;
            const keep = (s: Json) => {
                if (q && !String(s.haystack).includes(q)) return false;
                if (state.filter === "wrong") return s.correct === false;
                if (state.filter === "low") return s.min_score !== undefined && s.min_score < state.low;
                if (state.filter === "disagree") return s.mc_first_negative !== undefined && s.judge_first_error !== undefined && s.mc_first_negative !== s.judge_first_error;
                if (state.filter === "intervened") return (s.interventions ?? 0) > 0;
                return true;
            };
            const matched = all.filter(keep);
            return {total: matched.length, rows: matched.slice(state.offset, state.offset + PAGE)};
        },
        async entry(key: string): Promise<Json> {
            if (mode === "server") return api("api/entry", {key});
            const data = staticData();
            const chunk = data.chunkOf[key];
            if (chunk === undefined) throw new Error(`no entry ${key}`);
            if (!data.chunks[chunk]) await loadScript(`data/entries-${chunk}.js`);
            return data.chunks[chunk][key];
        },
        async question(qid: string): Promise<Json> {
            if (mode === "server") return api("api/question", {qid});
            return staticData().questions[qid];
        },
    };

    // ---- DOM helpers (text nodes only) ---------------------------------------------------
    type Child = Node | string | number | null | undefined | false;
    function h(tag: string, attrs: Record<string, Json> = {}, ...children: Child[]): HTMLElement {
        const el = document.createElement(tag);
        for (const [k, v] of Object.entries(attrs)) {
            if (v === undefined || v === null || v === false) continue;
            if (k === "class") el.className = String(v);
            else if (k === "style") el.setAttribute("style", String(v));
            else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
            else el.setAttribute(k, String(v));
        }
        for (const c of children) if (c !== null && c !== undefined && c !== false) el.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
        return el;
    }
    const $ = (id: string) => document.getElementById(id)!;
    const clear = (el: HTMLElement) => {
        while (el.firstChild) el.removeChild(el.firstChild);
        return el;
    };
    // A mirror of src/util/plural.ts (this function is serialised alone): "1 step", "3 steps", "12,000 tokens".
    const plural = (n: number, word: string, many = `${word}s`) => `${n.toLocaleString("en-US")} ${n === 1 ? word : many}`;
    const fmt = (x: Json, d = 3) => (typeof x === "number" && Number.isFinite(x) ? x.toFixed(d) : "–");
    const visible = (s: string) => s.replace(/\n/g, "↵\n");
    const badge = (text: string, cls: string, title?: string) => h("span", {class: `badge ${cls}`, title}, text);
    const confColor = (p: number) => {
        if (!Number.isFinite(p)) return "transparent";
        const l = 52 + 48 * Math.pow(Math.max(0, Math.min(1, p)), 0.6);
        return `hsl(${Math.round(10 + 40 * p)}, 95%, ${l.toFixed(0)}%)`;
    };
    const scoreColor = (s: number) => (Number.isFinite(s) ? `hsl(${Math.round(120 * s)}, 70%, 85%)` : "transparent");

    /**
     * Draw items [0, total) with `drawRange(from, to)`, `first` of them at once (default `batch`),
     * then, while some are left, a "show more" button appended to `buttonParent()` draws the next
     * `batch`; `onShown` hears how many are drawn. To draw again from 0, the caller clears what
     * was drawn and calls it again.
     */
    function batched(total: number, batch: number, what: string, drawRange: (from: number, to: number) => void, buttonParent: () => HTMLElement, o: {first?: number; onShown?: (n: number) => void} = {}): void {
        let shown = 0;
        const next = (count: number) => {
            const to = Math.min(total, shown + count);
            drawRange(shown, to);
            shown = to;
            o.onShown?.(shown);
            if (shown >= total) return;
            const left = total - shown;
            const button = h("button", {type: "button", class: "more"}, `show ${Math.min(batch, left)} more ${what} (${shown} of ${total} shown)`);
            const holder = h("span", {class: "more-holder"}, " ", button);
            button.addEventListener("click", () => {
                holder.remove();
                next(batch);
            });
            buttonParent().appendChild(holder);
        };
        next(o.first ?? batch);
    }

    // ---- list ------------------------------------------------------------------------------
    async function renderList(): Promise<void> {
        const list = clear($("list"));
        let res: Json;
        try {
            res = await source.list();
        } catch (e) {
            list.appendChild(h("p", {class: "error"}, String((e as Error).message)));
            return;
        }
        state.total = res.total;
        $("count").textContent = plural(res.total, "entry", "entries");
        $("page").textContent = res.total ? `${state.offset + 1}–${Math.min(state.offset + PAGE, res.total)}` : "0";
        for (const s of res.rows) {
            const badges: Child[] = [];
            if (s.correct === true) badges.push(badge("✓", "ok", "final answer right"));
            if (s.correct === false) badges.push(badge("✗", "bad", "final answer wrong"));
            if (s.correct === undefined && (s.kinds.includes("sample") || s.kinds.includes("decode"))) badges.push(badge("not graded", "neutral", "no `correct` field: the final answer was not graded"));
            if (s.min_score !== undefined) badges.push(badge(`min ${fmt(s.min_score, 2)}`, s.min_score < state.low ? "bad" : "neutral", "lowest PRM step score"));
            if (s.mc_first_negative !== undefined) badges.push(badge(`MC ${s.mc_first_negative}`, "neutral", "MC first negative step (−1 none)"));
            if (s.judge_first_error !== undefined) badges.push(badge(`judge ${s.judge_first_error ?? "?"}`, "neutral", "judge's first wrong step"));
            if (s.gold_first_error !== undefined)
                badges.push(
                    badge(
                        s.gold_first_error_split ? `gold ${s.gold_first_error_split} ${s.gold_first_error}` : `gold ${s.gold_first_error}`,
                        "neutral",
                        `true first wrong step (−1: none)${s.gold_first_error_split ? `, index in the ${s.gold_first_error_split} split` : ", split not known"}`,
                    ),
                );
            if (s.interventions) badges.push(badge(plural(s.interventions, "intervention"), "neutral"));
            const row = h(
                "li",
                {class: s.key === state.key ? "row selected" : "row", "data-key": s.key, onclick: () => select(s.key)},
                h("div", {class: "key"}, s.key, " ", ...badges),
                h("div", {class: "q"}, s.question || "(no question)"),
            );
            list.appendChild(row);
        }
    }

    async function select(key: string): Promise<void> {
        state.key = key;
        if (decodeURIComponent(location.hash.slice(1)) !== key) history.replaceState(null, "", `#${encodeURIComponent(key)}`);
        for (const li of Array.from(document.querySelectorAll("#list li"))) li.classList.toggle("selected", (li as HTMLElement).dataset.key === key);
        const detail = clear($("detail"));
        detail.appendChild(h("p", {}, "loading…"));
        let e: Json;
        try {
            e = await source.entry(key);
        } catch (err) {
            clear(detail).appendChild(h("p", {class: "error"}, String((err as Error).message)));
            return;
        }
        state.tau = Number.isFinite(e.tau) ? e.tau : Number.isFinite(state.tau) ? state.tau : defaultTau;
        await renderEntry(e);
    }

    // ---- one entry ---------------------------------------------------------------------------
    async function renderEntry(e: Json): Promise<void> {
        const detail = clear($("detail"));
        detail.appendChild(h("h2", {}, e.key));
        if (e.question) detail.appendChild(h("div", {class: "question"}, e.question));
        const facts: Child[] = [];
        if (e.gold_view) facts.push(h("span", {}, "gold answer ", h("code", {class: "gold-answer"}, String(e.gold_view.answer))));
        if (e.summary.correct !== undefined) facts.push(e.summary.correct ? badge("answer right", "ok") : badge("answer wrong", "bad"));
        else if (e.tokens || e.text || e.decodes.length) facts.push(badge("not graded", "neutral", "no `correct` field: the final answer was not graded"));
        if (e.gold_first_error !== undefined) {
            // The index is of one split: name it, and give the other tables' own index where they differ.
            const where = e.gold_first_error_split ? `${e.gold_first_error_split} step ${e.gold_first_error}` : `step ${e.gold_first_error}`;
            const others = e.splits
                .filter((sp: Json) => sp.strategy !== e.gold_first_error_split && sp.markers?.truth !== undefined && e.gold_first_error >= 0)
                .map((sp: Json) => `${sp.strategy} step ${sp.markers.truth.index}`);
            facts.push(h("span", {class: "truth-fact"}, e.gold_first_error < 0 ? "no wrong step (exact truth)" : `true first wrong step: ${where}${others.length ? ` (= ${others.join(", ")})` : ""}`));
        }
        if (facts.length) detail.appendChild(h("p", {class: "facts"}, ...facts.flatMap((f) => [f, " "])));
        if (e.gold_view?.solution) {
            // GSM8K's calculator annotations (<<16-3-4=9>>) greyed: the worked solution reads as prose.
            const sol = h("div", {class: "gold-solution", title: "gold solution; greyed: calculator annotations"});
            for (const part of String(e.gold_view.solution).split(/(<<[^<>]*>>)/)) if (part) sol.appendChild(/^<<[^<>]*>>$/.test(part) ? h("span", {class: "calc"}, part) : document.createTextNode(part));
            detail.appendChild(h("details", {class: "gold", open: true}, h("summary", {}, "gold solution"), sol));
        }
        if (e.tokens) detail.appendChild(tokensPanel(e));
        else if (e.text && !e.decodes.length) detail.appendChild(h("pre", {class: "text"}, e.text));
        for (const sp of e.splits) detail.appendChild(stepsTable(e, sp));
        for (const j of e.judges) detail.appendChild(judgePanel(j, e));
        for (const d of e.decodes) detail.appendChild(decodePanel(d));
        if (e.summary.question_id) {
            const qv = await source.question(e.summary.question_id);
            if (qv && qv.candidates.length > 1) detail.appendChild(bonPanel(qv, e.key));
        }
        const raw = h("details", {class: "raw"}, h("summary", {}, `records (${e.parts.length})`));
        // Serialised when opened: a long sample's record is megabytes of JSON.
        raw.addEventListener("toggle", () => {
            if (!(raw as HTMLDetailsElement).open || raw.dataset.filled) return;
            raw.dataset.filled = "1";
            for (const p of e.parts) {
                const json = JSON.stringify(p.record, null, 2);
                const cut = json.length > RAW ? `${json.slice(0, RAW)}\n… (cut: ${RAW} of ${json.length} characters shown)` : json;
                raw.appendChild(h("div", {}, h("b", {}, `${p.file} (${p.kinds.join(", ")})`), h("pre", {}, cut)));
            }
        });
        detail.appendChild(raw);
    }

    /** Tokens coloured by confidence, with step ends after every token below τ (live) or of a file's split. */
    function tokensPanel(e: Json): HTMLElement {
        const panel = h("section", {id: "tokens-panel"});
        const tauLabel = h("span", {id: "tau-value"});
        const stepsCount = h("span", {id: "steps-count"});
        const slider = h("input", {id: "tau", type: "range", min: "0", max: "1", step: "0.001", value: String(state.tau)}) as HTMLInputElement;
        const choose = h("select", {id: "boundaries"}, h("option", {value: "live"}, "steps at live τ")) as HTMLSelectElement;
        for (const sp of e.splits) choose.appendChild(h("option", {value: sp.strategy}, `steps of ${sp.strategy}`));
        choose.value = e.splits.some((s: Json) => s.strategy === state.boundaries) ? state.boundaries : "live";
        const box = h("div", {class: "tokens", id: "tokens"});
        // Tokens drawn so far: moving τ redraws as many as were shown, not more.
        let shownTokens = TOKENS;
        const draw = () => {
            const tau = Number(slider.value);
            state.tau = tau;
            state.boundaries = choose.value;
            tauLabel.textContent = `τ = ${tau.toFixed(3)}`;
            const ends = new Set<number>();
            if (choose.value === "live") {
                // Decision tokens end steps, cut by src/steps' rule (the whitespace rule of adaptive splits included).
                const cuts: number[] = [];
                e.tokens.forEach((t: Json, i: number) => t.p < tau && cuts.push(i + 1));
                for (const [, end] of cutSpans(e.tokens.map((t: Json) => String(t.t)), cuts, "keep")) ends.add(end - 1);
            } else {
                const sp = e.splits.find((s: Json) => s.strategy === choose.value);
                for (const s of sp?.steps ?? []) if (s.token_end !== undefined) ends.add(s.token_end - 1);
            }
            const n = ends.size + (ends.has(e.tokens.length - 1) ? 0 : 1);
            stepsCount.textContent = plural(n, "step");
            clear(box);
            let step = 0;
            let stepEl = h("span", {class: "step", "data-step": step});
            box.appendChild(stepEl);
            const live = choose.value === "live";
            batched(e.tokens.length, TOKENS, "tokens", (from, to) => {
                for (let i = from; i < to; i++) {
                    const t = e.tokens[i];
                    const top = (t.top ?? []).map((a: Json) => `${JSON.stringify(a[0])} ${fmt(a[1])}`).join(", ");
                    const decision = live ? t.p < tau : ends.has(i);
                    const tok = h("span", {class: decision ? "tok decision" : "tok", style: `background:${confColor(t.p)}`, title: `p = ${fmt(t.p, 4)}${top ? ` | top: ${top}` : ""}`}, visible(t.t));
                    stepEl.appendChild(tok);
                    if (ends.has(i) && i < e.tokens.length - 1) {
                        stepEl.appendChild(h("span", {class: "boundary", title: `end of step ${step}`}, "⏐"));
                        stepEl = h("span", {class: "step", "data-step": ++step});
                        box.appendChild(stepEl);
                    }
                }
            }, () => box, {first: shownTokens, onShown: (n) => (shownTokens = n)});
        };
        slider.addEventListener("input", draw);
        choose.addEventListener("change", draw);
        panel.append(h("h3", {}, "Tokens by confidence"), h("div", {class: "controls"}, slider, " ", tauLabel, " ", choose, " ", stepsCount, h("span", {class: "legend"}, " low ", h("span", {class: "sw", style: `background:${confColor(0.05)}`}), h("span", {class: "sw", style: `background:${confColor(0.5)}`}), h("span", {class: "sw", style: `background:${confColor(1)}`}), " high confidence; ⏐ step end")), box);
        draw();
        return panel;
    }

    function stepsTable(e: Json, sp: Json): HTMLElement {
        const hasLabels = sp.steps.some((s: Json) => s.hard !== undefined);
        const hasScores = sp.steps.some((s: Json) => s.score !== undefined);
        const hasTruth = sp.steps.some((s: Json) => s.truth !== undefined);
        const markers = sp.markers ?? {judges: []};
        const judge = markers.judges[0];
        const via = (m: Json) => (m.from ? ` (${m.from.split} step ${m.from.index}, mapped by character offsets)` : "");
        const head = h("tr", {}, h("th", {}, "#"), h("th", {class: "left"}, "step"), hasLabels && h("th", {}, "MC hard"), hasLabels && h("th", {}, "MC soft"), hasLabels && h("th", {}, "rollouts"), hasScores && h("th", {}, "PRM score"), hasTruth && h("th", {}, "truth"), h("th", {}, "marks"));
        const table = h("table", {class: "steps", "data-strategy": sp.strategy}, head);
        const below = h("div", {class: "more-rows"});
        const addRow = (s: Json, i: number) => {
            const marks: Child[] = [];
            if (sp.first_negative === i) marks.push(badge("MC first −", "bad", `MC first negative step of the ${sp.strategy} labels`));
            if (judge && judge.index === i) marks.push(badge("judge first error", "bad", `the judge's first wrong step${via(judge)}`));
            if (markers.truth && markers.truth.index === i) marks.push(badge("true first error", "bad", `the true first wrong step${via(markers.truth)}`));
            const row = h(
                "tr",
                {class: "step-row", "data-index": i},
                h("td", {}, i),
                h("td", {class: "left steptext"}, visible(s.text)),
                hasLabels && h("td", {class: s.hard === 0 ? "neg" : s.hard === 1 ? "pos" : ""}, s.hard === null || s.hard === undefined ? "–" : s.hard),
                hasLabels && h("td", {}, fmt(s.soft, 2)),
                hasLabels && h("td", {}, s.rollouts ? `${s.rollouts.correct}/${s.rollouts.n}` : "–"),
                hasScores && h("td", {style: `background:${scoreColor(s.score)}`}, fmt(s.score)),
                hasTruth && h("td", {class: s.truth === false ? "neg" : s.truth ? "pos" : ""}, s.truth === undefined ? "–" : s.truth ? "right" : "wrong"),
                h("td", {class: "left"}, ...marks),
            );
            row.addEventListener("click", () => toggleStepDetail(row, e, sp, s, i, hasLabels || hasScores || hasTruth));
            table.appendChild(row);
        };
        batched(sp.steps.length, ROWS, "steps", (from, to) => {
            for (let i = from; i < to; i++) addRow(sp.steps[i], i);
        }, () => below);
        const title = `Steps: ${sp.strategy}${Number.isFinite(sp.tau) ? ` (τ = ${fmt(sp.tau, 4)})` : ""} — ${sp.steps.length} steps, from ${sp.files.join(", ")}`;
        return h("section", {}, h("h3", {}, title), sp.method ? h("p", {class: "small"}, `labels: ${sp.method}`) : null, table, below, h("p", {class: "small"}, "Click a step for its rollouts and its decision token."));
    }

    function toggleStepDetail(row: HTMLElement, e: Json, sp: Json, s: Json, i: number, wide: boolean): void {
        const next = row.nextElementSibling as HTMLElement | null;
        if (next && next.classList.contains("step-detail")) {
            next.remove();
            return;
        }
        const lines: Child[] = [];
        if (s.rollouts) {
            const ok = s.rollouts.correct;
            lines.push(h("div", {class: "rollouts"}, `Rollouts from the prefix ending with step ${i}: ${s.rollouts.n} run, ${ok} reached the gold answer, ${s.rollouts.n - ok} did not.`, " ", ...Array.from({length: Math.min(64, s.rollouts.n)}, (_, k) => h("span", {class: k < ok ? "dot pos" : "dot neg"}, k < ok ? "●" : "○"))));
            lines.push(h("div", {}, `Hard label ${s.hard ?? "– (not labelled: after the first negative)"}; soft label ${fmt(s.soft, 3)}.`));
        } else lines.push(h("div", {}, "No Monte-Carlo rollouts for this step in the given files."));
        if (e.tokens && s.token_end !== undefined) {
            const t = e.tokens[s.token_end - 1];
            if (t) lines.push(h("div", {}, "Last token ", h("code", {}, JSON.stringify(t.t)), ` confidence ${fmt(t.p, 4)}`, t.top ? ` — alternatives: ${t.top.map((a: Json) => `${JSON.stringify(a[0])} ${fmt(a[1])}`).join(", ")}` : ""));
        }
        if (s.score !== undefined) lines.push(h("div", {}, `PRM score ${fmt(s.score, 4)}.`));
        if (s.start !== undefined) lines.push(h("div", {class: "small"}, `characters ${s.start}–${s.end}${s.token_start !== undefined ? `, tokens ${s.token_start}–${s.token_end}` : ""}`));
        const cols = row.children.length;
        const detail = h("tr", {class: "step-detail"}, h("td", {colspan: cols}, ...lines));
        row.after(detail);
        void wide;
        void sp;
    }

    function judgePanel(j: Json, e: Json): HTMLElement {
        // MC first negative of the split the judge read (same step count), else of the first labelled split.
        const agree = e.splits.find((s: Json) => s.first_negative !== undefined && j.steps !== undefined && s.steps.length === j.steps) ?? (j.steps === undefined ? e.splits.find((s: Json) => s.first_negative !== undefined) : undefined);
        return h(
            "section",
            {class: "judge"},
            h("h3", {}, `Judge (${j.file})`),
            h("p", {}, `first wrong step: ${j.first_error === null ? "unparsable" : j.first_error}`, agree ? ` (${agree.strategy} steps)` : "", agree ? ` — MC first negative ${agree.first_negative}: ${agree.first_negative === j.first_error ? "agree (kept by consensus filtering)" : "disagree"}` : ""),
            j.votes !== undefined ? h("p", {class: "small"}, `votes: ${JSON.stringify(j.votes)}`) : null,
            h("details", {}, h("summary", {}, `raw judge outputs (${j.raw.length})`), ...j.raw.map((r: string) => h("pre", {}, r))),
        );
    }

    /** A decode record (src/search): the response, TVD interventions, beam iterations or scored candidates. */
    function decodePanel(d: Json): HTMLElement {
        const panel = h("section", {class: "decode"}, h("h3", {}, `Decoding: ${d.strategy} (${d.file})`));
        const facts = [`answer ${JSON.stringify(d.answer ?? null)}`, typeof d.correct === "boolean" ? (d.correct ? "right" : "wrong") : "not graded", d.tokens !== undefined ? `${d.tokens} policy tokens` : "", d.prm_calls !== undefined ? `${d.prm_calls} PRM calls` : "", d.requests !== undefined ? `${d.requests} requests` : ""].filter(Boolean);
        panel.appendChild(h("p", {}, facts.join(" · ")));
        const tvd = d.trace.filter((t: Json) => t && Array.isArray(t.candidates) && (t.type === "tvd" || t.type === undefined));
        const at = new Map<number, Json>(tvd.map((t: Json) => [t.position, t]));
        if (Array.isArray(d.response_tokens) && d.response_tokens.length) {
            const box = h("div", {class: "tokens"});
            batched(d.response_tokens.length, TOKENS, "tokens", (from, to) => {
                for (let i = from; i < to; i++) {
                    const t = d.response_tokens[i];
                    const iv = at.get(i);
                    const title = iv ? `PRM chose this among ${iv.candidates.length} candidates (greedy p = ${fmt(iv.greedy_prob)})` : `p = ${fmt(t.confidence, 4)}`;
                    box.appendChild(h("span", {class: iv ? "tok intervened" : "tok", style: `background:${confColor(t.confidence)}`, title}, visible(t.text)));
                }
            }, () => box);
            panel.appendChild(box);
            panel.appendChild(h("p", {class: "small"}, "Boxed tokens: where the PRM chose among the policy's candidates."));
        } else panel.appendChild(h("pre", {class: "text"}, d.text));
        if (tvd.length) {
            panel.appendChild(h("h4", {}, `${plural(tvd.length, "intervention")}: the PRM scored the policy's top candidates where the greedy token's probability was below τ`));
            for (const t of tvd) {
                const table = h("table", {class: "cands"}, h("tr", {}, h("th", {class: "left"}, "candidate"), h("th", {}, "policy p"), h("th", {}, "PRM score")));
                t.candidates.forEach((c: Json, ci: number) => {
                    const text = c.text ?? c.token ?? "";
                    const chosen = t.chosen === ci || t.chosen === text || c.chosen === true;
                    table.appendChild(h("tr", {class: chosen ? "chosen" : ""}, h("td", {class: "left"}, h("code", {}, JSON.stringify(text)), chosen ? " ← chosen" : ci === 0 ? " (greedy)" : ""), h("td", {}, fmt(c.prob ?? c.p)), h("td", {style: `background:${scoreColor(c.score)}`}, fmt(c.score))));
                });
                const where = t.position !== undefined ? `token ${t.position}` : "";
                const context = Array.isArray(d.response_tokens) && t.position !== undefined ? d.response_tokens.slice(Math.max(0, t.position - 12), t.position).map((x: Json) => x.text).join("") : "";
                panel.appendChild(h("div", {class: "intervention"}, h("div", {class: "small"}, where, context ? ` after …${JSON.stringify(context)}` : ""), table));
            }
        }
        const beams = d.trace.filter((t: Json) => t && t.type === "beam");
        if (beams.length) {
            const det = h("details", {}, h("summary", {}, `${plural(beams.length, "search iteration")} (steps scored, kept ones marked)`));
            for (const b of beams) {
                const table = h("table", {class: "cands"}, h("tr", {}, h("th", {}, "parent"), h("th", {class: "left"}, "step"), h("th", {}, "score"), h("th", {}, "kept")));
                for (const c of b.candidates) table.appendChild(h("tr", {class: c.kept ? "chosen" : ""}, h("td", {}, c.parent), h("td", {class: "left steptext"}, visible(String(c.step))), h("td", {style: `background:${scoreColor(c.score)}`}, fmt(c.score)), h("td", {}, c.kept ? "✓" : c.done ? "done" : "")));
                det.appendChild(h("div", {}, h("div", {class: "small"}, `iteration ${b.iteration}${b.tree ? `, subtree ${b.tree}` : ""}`), table));
            }
            panel.appendChild(det);
        }
        const cands = d.trace.filter((t: Json) => t && t.type === "candidate");
        if (cands.length) {
            const table = h("table", {class: "cands"}, h("tr", {}, h("th", {}, "#"), h("th", {}, "answer"), h("th", {}, "finished"), h("th", {}, "score"), h("th", {class: "left"}, "step scores")));
            for (const c of cands) table.appendChild(h("tr", {class: c.chosen ? "chosen" : ""}, h("td", {}, c.index), h("td", {}, c.answer ?? "(none)"), h("td", {}, c.finished ? "yes" : "no"), h("td", {style: `background:${scoreColor(c.score)}`}, fmt(c.score)), h("td", {class: "left"}, (c.step_scores ?? []).map((x: number) => fmt(x, 2)).join(" "))));
            panel.appendChild(h("h4", {}, `${plural(cands.length, "candidate")} (chosen highlighted)`));
            panel.appendChild(table);
        }
        if (!tvd.length && !beams.length && !cands.length && d.trace.length) panel.appendChild(h("details", {}, h("summary", {}, `trace (${d.trace.length})`), h("pre", {}, JSON.stringify(d.trace, null, 2))));
        return panel;
    }

    function bonPanel(qv: Json, current: string): HTMLElement {
        const scored = qv.candidates.filter((c: Json) => c.scores);
        const table = h("table", {class: "bon"}, h("tr", {}, h("th", {class: "left"}, "candidate"), h("th", {}, "answer"), h("th", {}, "right"), ...AGG.map((a) => h("th", {title: `rank by ${a} of step scores`}, a))));
        const rank: Record<string, Map<string, number>> = {};
        for (const a of AGG) {
            const sorted = [...scored].sort((x: Json, y: Json) => y.scores[a] - x.scores[a]);
            rank[a] = new Map(sorted.map((c: Json, i: number) => [c.key, i + 1]));
        }
        const order = [...qv.candidates].sort((x: Json, y: Json) => (y.scores?.product ?? -1) - (x.scores?.product ?? -1));
        for (const c of order) {
            const cells = AGG.map((a) => {
                const picked = qv.picks[a] === c.key;
                return h("td", {class: picked ? "picked" : "", title: c.scores ? `${a} = ${fmt(c.scores[a], 4)}` : "no step scores"}, c.scores ? `#${rank[a].get(c.key)} ${fmt(c.scores[a], 3)}${picked ? " ★" : ""}` : "–");
            });
            const link = h("a", {href: `#${encodeURIComponent(c.key)}`}, c.key);
            table.appendChild(h("tr", {class: c.key === current ? "current" : ""}, h("td", {class: "left"}, link), h("td", {}, c.answer ?? "(no answer)"), h("td", {class: c.correct === true ? "pos" : c.correct === false ? "neg" : ""}, typeof c.correct !== "boolean" ? "not graded" : c.correct ? "✓" : "✗"), ...cells));
        }
        const maj = qv.majority ? `majority vote: ${qv.majority.answer} (${qv.majority.votes} of ${qv.candidates.length})${typeof qv.majority.correct !== "boolean" ? ", not graded" : qv.majority.correct ? ", right" : ", wrong"}` : "";
        return h("section", {class: "bon"}, h("h3", {}, `Best-of-${qv.candidates.length} for ${qv.question_id}`), h("p", {class: "small"}, "★ = the candidate each aggregation of step scores picks (candidates without a final answer are never picked). ", maj), table);
    }

    // ---- start -------------------------------------------------------------------------------
    let defaultTau = 0.5;
    async function start(): Promise<void> {
        const meta = await source.meta();
        if (Number.isFinite(meta.tau)) defaultTau = meta.tau;
        state.tau = defaultTau;
        $("files").textContent = meta.files.map((f: Json) => `${f.name} (${plural(f.records, "record")}; kinds: ${Object.entries(f.kinds).map(([k, v]) => `${k} ${v}`).join(", ")})`).join(" · ");
        const q = $("q") as HTMLInputElement;
        const filter = $("filter") as HTMLSelectElement;
        const low = $("low") as HTMLInputElement;
        let timer: ReturnType<typeof setTimeout> | undefined;
        q.addEventListener("input", () => {
            clearTimeout(timer);
            timer = setTimeout(() => {
                state.q = q.value;
                state.offset = 0;
                void renderList();
            }, 200);
        });
        filter.addEventListener("change", () => {
            state.filter = filter.value;
            state.offset = 0;
            void renderList();
        });
        low.addEventListener("change", () => {
            state.low = Number(low.value);
            state.offset = 0;
            void renderList();
        });
        $("prev").addEventListener("click", () => {
            state.offset = Math.max(0, state.offset - PAGE);
            void renderList();
        });
        $("next").addEventListener("click", () => {
            if (state.offset + PAGE < state.total) state.offset += PAGE;
            void renderList();
        });
        window.addEventListener("hashchange", () => {
            const key = decodeURIComponent(location.hash.slice(1));
            if (key && key !== state.key) void select(key);
        });
        await renderList();
        const first = decodeURIComponent(location.hash.slice(1)) || (document.querySelector("#list li") as HTMLElement | null)?.dataset.key;
        if (first) await select(first);
        document.body.dataset.ready = "1";
    }
    start().catch((e) => {
        document.body.appendChild(h("p", {class: "error"}, `viewer: ${(e as Error).message}`));
    });
}
