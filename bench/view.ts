/**
 * `npm run bench -- view [--records N]`: the viewer on a large samples file (default 100,000
 * records of 60 tokens each, with their adaptive steps and PRM scores in two more files): time and
 * heap to index, and the latency of the requests the page makes (list page, search, filter, entry,
 * Best-of-N question), through the Hono app in-process.
 */
import {mkdtempSync, createWriteStream, rmSync} from "node:fs";
import {join} from "node:path";
import {tmpdir} from "node:os";
import {once} from "node:events";
import {ViewStore, createViewerApp} from "../src/apps/view/index.ts";

async function writeFiles(dir: string, n: number): Promise<string[]> {
    const files = ["samples.jsonl", "steps.jsonl", "scored.jsonl"].map((f) => join(dir, f));
    const [samples, steps, scored] = files.map((f) => createWriteStream(f));
    const write = async (s: ReturnType<typeof createWriteStream>, line: string) => {
        if (!s.write(line + "\n")) await once(s, "drain");
    };
    for (let i = 0; i < n; i++) {
        const q = `q${Math.floor(i / 16)}`;
        const tokens = Array.from({length: 60}, (_, t) => ({text: t % 10 === 9 ? "\n" : ` w${t}`, confidence: ((i * 7 + t * 13) % 100) / 100, top: [{text: ` w${t}`, prob: 0.5}]}));
        const text = tokens.map((t) => t.text).join("");
        const base = {id: `${q}#${i % 16}`, question_id: q, sample_index: i % 16, question: `Question ${q}: compute something`, prompt: "p", text};
        await write(samples, JSON.stringify({...base, tokens, finish_reason: "eos", gold: "1", correct: i % 3 !== 0, engine: "bench", seed: 0, temperature: 1}));
        const st = [0, 20, 40].map((s) => ({text: text.slice(0, 1), start: s, end: s + 20, token_start: s / 2, token_end: s / 2 + 10}));
        await write(steps, JSON.stringify({...base, strategy: "adaptive", tau: 0.02, steps: st}));
        await write(scored, JSON.stringify({...base, strategy: "adaptive", steps: st, step_scores: [0.9, (i % 10) / 10, 0.7]}));
    }
    for (const s of [samples, steps, scored]) {
        s.end();
        await once(s, "finish");
    }
    return files;
}

export default async function (flags: string[]): Promise<void> {
    const n = Number(flags.find((f) => f.startsWith("--records="))?.split("=")[1] ?? 100_000);
    const dir = mkdtempSync(join(tmpdir(), "stepwise-bench-view-"));
    try {
        console.error(`[bench view] writing ${n} records × 3 files`);
        const files = await writeFiles(dir, n);
        global.gc?.();
        const heap0 = process.memoryUsage().heapUsed;
        const t0 = performance.now();
        const store = await ViewStore.open(files);
        const indexS = (performance.now() - t0) / 1000;
        global.gc?.();
        const heapMb = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
        const app = createViewerApp(store);
        const time = async (path: string, reps = 5) => {
            const t = performance.now();
            for (let r = 0; r < reps; r++) {
                const res = await app.request(path);
                if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`);
                await res.arrayBuffer();
            }
            return (performance.now() - t) / reps;
        };
        console.log(
            JSON.stringify({
                name: "view",
                records: n,
                entries: store.size,
                index_s: +indexS.toFixed(2),
                index_records_per_s: Math.round((3 * n) / indexS),
                heap_mb: +heapMb.toFixed(1),
                list_page_ms: +(await time("/api/list?offset=50000&limit=50")).toFixed(2),
                search_ms: +(await time("/api/list?q=q4999%23")).toFixed(2),
                filter_wrong_ms: +(await time("/api/list?filter=wrong")).toFixed(2),
                filter_low_ms: +(await time("/api/list?filter=low&low=0.3")).toFixed(2),
                entry_ms: +(await time(`/api/entry?key=${encodeURIComponent("q3000#5")}`)).toFixed(2),
                question_ms: +(await time("/api/question?qid=q3000")).toFixed(2),
            }),
        );
    } finally {
        rmSync(dir, {recursive: true, force: true});
    }
}
