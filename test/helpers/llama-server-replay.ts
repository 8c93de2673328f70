/**
 * Recorded exchanges with a real server, and a loopback server that replays them, for the
 * conformance tests of the OpenAI engine's dialects (test/engines/llama-server.test.ts).
 *
 * - {@link startRecorder}: a loopback proxy in front of a real server that forwards every request
 *   unchanged and keeps each exchange (request method, path and JSON body; status; JSON answer).
 * - {@link trimAnswer}: what is kept of an answer: the fields a client reads, without timings,
 *   build strings, chat templates and other bulk of the server's.
 * - {@link startReplay}: serves recorded exchanges: a request is answered with the recorded answer
 *   of the exchange whose method, path and body equal it exactly (so a client that changed what
 *   it sends fails loudly with 404 "no recorded exchange", instead of passing on an answer to
 *   another request). Each exchange is served as often as asked.
 */
import {createServer, request as httpRequest, type IncomingMessage, type ServerResponse} from "node:http";
import type {Socket} from "node:net";
import {isDeepStrictEqual} from "node:util";

export interface Exchange {
    request: {method: string; path: string; body: unknown};
    status: number;
    answer: unknown;
}

async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString("utf8");
}

function parse(text: string): unknown {
    if (text === "") return null;
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

interface Loopback {
    url: string;
    close(): Promise<void>;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>): Promise<Loopback> {
    const sockets = new Set<Socket>();
    const server = createServer((req, res) => {
        handler(req, res).catch(() => req.socket.destroy());
    });
    server.on("connection", (s) => {
        sockets.add(s);
        s.on("close", () => sockets.delete(s));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as {port: number}).port;
    return {
        url: `http://127.0.0.1:${port}`,
        close: () =>
            new Promise<void>((r) => {
                for (const s of sockets) s.destroy();
                server.close(() => r());
            }),
    };
}

/** Top-level keys of llama-server answers that no client reads and that change with every build or run. */
const BULK = new Set(["timings", "system_fingerprint", "created", "id"]);

/** An answer as stored: top-level {@link BULK} keys dropped; `/props` reduced to what stepwise reads; `/v1/models` to its `data`. */
export function trimAnswer(path: string, answer: unknown): unknown {
    if (!answer || typeof answer !== "object" || Array.isArray(answer)) return answer;
    const a = answer as Record<string, unknown>;
    if (path === "/props") {
        const dgs = (a.default_generation_settings ?? {}) as Record<string, unknown>;
        return {default_generation_settings: {n_ctx: dgs.n_ctx}, total_slots: a.total_slots};
    }
    if (path === "/v1/models") return {object: a.object, data: (a.data as Record<string, unknown>[]).map(({created: _c, ...card}) => card)};
    return Object.fromEntries(Object.entries(a).filter(([k]) => !BULK.has(k)));
}

/** A proxy in front of `upstream` that keeps every exchange in `exchanges` (answers trimmed). */
export async function startRecorder(upstream: string): Promise<Loopback & {exchanges: Exchange[]}> {
    const exchanges: Exchange[] = [];
    const target = new URL(upstream);
    const server = await listen(async (req, res) => {
        const text = await readBody(req);
        const upstreamAnswer = await new Promise<{status: number; body: string; type: string}>((resolve, reject) => {
            const up = httpRequest(
                {host: target.hostname, port: target.port, path: req.url, method: req.method, headers: {"content-type": "application/json"}},
                async (r) => resolve({status: r.statusCode ?? 0, body: await readBody(r), type: String(r.headers["content-type"] ?? "application/json")}),
            );
            up.on("error", reject);
            up.end(text);
        });
        const path = (req.url ?? "").split("?")[0];
        exchanges.push({request: {method: req.method ?? "", path, body: parse(text)}, status: upstreamAnswer.status, answer: trimAnswer(path, parse(upstreamAnswer.body))});
        res.writeHead(upstreamAnswer.status, {"content-type": upstreamAnswer.type});
        res.end(upstreamAnswer.body);
    });
    return {...server, exchanges};
}

/** Serve recorded exchanges (see the module docs); `hits` lists the paths asked for, in order. */
export async function startReplay(exchanges: Exchange[]): Promise<Loopback & {hits: {path: string; body: unknown}[]}> {
    const hits: {path: string; body: unknown}[] = [];
    const server = await listen(async (req, res) => {
        const body = parse(await readBody(req));
        const path = (req.url ?? "").split("?")[0];
        hits.push({path, body});
        const found = exchanges.find((e) => e.request.method === req.method && e.request.path === path && isDeepStrictEqual(e.request.body, body));
        res.writeHead(found ? found.status : 404, {"content-type": "application/json"});
        res.end(JSON.stringify(found ? found.answer : {error: {message: `no recorded exchange for ${req.method} ${path} ${JSON.stringify(body)}`}}));
    });
    return {...server, hits};
}
