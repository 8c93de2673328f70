/**
 * A fault-injecting HTTP proxy on loopback, for tests and benchmarks of the OpenAI engine's
 * retry logic against a real server.
 *
 * It listens on 127.0.0.1 (an ephemeral port by default) in front of one upstream server. For
 * each incoming request a seeded RNG decides, in this order of shares:
 * - **drop**: the client's connection is destroyed without an answer. Half of the drops happen
 *   before the request reaches the upstream, half after the upstream has answered (the work was
 *   done, the answer is lost), so a client must not count on either;
 * - **error**: an HTTP 500 with a JSON error body, upstream not contacted;
 * - **stall**: nothing is sent back for `stallMs` (set it past the client's timeout), then the
 *   connection is destroyed;
 * - otherwise the request is forwarded unchanged and the upstream's answer relayed.
 *
 * The same seed and the same order of arriving requests give the same faults. Only loopback
 * upstreams are accepted: this is a test tool, not a general proxy.
 */
import {mulberry32} from "../../src/util/rng.ts";
import {createServer, request as httpRequest, type IncomingMessage, type ServerResponse} from "node:http";
import type {Socket} from "node:net";
import {StepwiseError} from "../../src/util/errors.ts";

export interface FaultProxyOptions {
    /** Upstream server root, e.g. "http://127.0.0.1:8000" (a path prefix is kept; "/v1" is not stripped). */
    upstream: string;
    /** RNG seed. Default 1. */
    seed?: number;
    /** Share of requests whose connection is dropped (0..1). Default 0. */
    dropRate?: number;
    /** Share answered with HTTP 500 (0..1). Default 0. */
    errorRate?: number;
    /** Share that stall (0..1). Default 0. */
    stallRate?: number;
    /** How long a stalled request hangs before its connection is destroyed. Default 30 000 ms. */
    stallMs?: number;
    /** Listen port; 0 (default) picks a free one. */
    port?: number;
}

/** What the proxy did, per kind of outcome. */
export interface FaultProxyStats {
    requests: number;
    forwarded: number;
    droppedBefore: number;
    droppedAfter: number;
    errors: number;
    stalls: number;
}

export interface FaultProxy {
    /** The proxy's root URL, e.g. "http://127.0.0.1:43121" (append "/v1" for an OpenAI base URL). */
    url: string;
    stats(): FaultProxyStats;
    /** Stop listening and destroy every open connection (stalled ones included). */
    close(): Promise<void>;
}

/** A small seeded uniform [0,1) generator (mulberry32, src/util/rng.ts). */
export const seededRandom = mulberry32;

type Fault = "dropBefore" | "dropAfter" | "error" | "stall" | "forward";

function checkRate(name: string, value: number | undefined): number {
    const v = value ?? 0;
    if (!(v >= 0 && v <= 1)) throw new StepwiseError(`fault proxy: ${name} must be in [0, 1], got ${value}`);
    return v;
}

/** Start a fault-injecting proxy; see the module docs. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
    const upstream = new URL(options.upstream);
    if (upstream.protocol !== "http:") throw new StepwiseError(`fault proxy: upstream must be http://, got ${options.upstream}`);
    if (!["127.0.0.1", "localhost", "[::1]"].includes(upstream.hostname))
        throw new StepwiseError(`fault proxy: upstream must be on loopback, got ${upstream.hostname}`);
    const prefix = upstream.pathname.replace(/\/+$/, "");
    const dropRate = checkRate("dropRate", options.dropRate);
    const errorRate = checkRate("errorRate", options.errorRate);
    const stallRate = checkRate("stallRate", options.stallRate);
    if (dropRate + errorRate + stallRate > 1) throw new StepwiseError("fault proxy: the fault shares add up to more than 1");
    const stallMs = options.stallMs ?? 30_000;
    const random = seededRandom(options.seed ?? 1);
    const counts: FaultProxyStats = {requests: 0, forwarded: 0, droppedBefore: 0, droppedAfter: 0, errors: 0, stalls: 0};
    const sockets = new Set<Socket>();
    const timers = new Set<NodeJS.Timeout>();

    const choose = (): Fault => {
        const r = random();
        if (r < dropRate) return random() < 0.5 ? "dropBefore" : "dropAfter";
        if (r < dropRate + errorRate) return "error";
        if (r < dropRate + errorRate + stallRate) return "stall";
        return "forward";
    };

    const forward = (req: IncomingMessage, body: Buffer): Promise<{status: number; headers: Record<string, string>; body: Buffer}> =>
        new Promise((resolve, reject) => {
            const headers = {...req.headers, host: upstream.host};
            delete headers.connection;
            const up = httpRequest(
                {hostname: upstream.hostname.replace(/^\[|\]$/g, ""), port: upstream.port || 80, method: req.method, path: prefix + (req.url ?? "/"), headers},
                (res) => {
                    const chunks: Buffer[] = [];
                    res.on("data", (c: Buffer) => chunks.push(c));
                    res.on("end", () => {
                        const out: Record<string, string> = {};
                        for (const [k, v] of Object.entries(res.headers)) {
                            if (v === undefined || ["connection", "transfer-encoding", "keep-alive", "content-length"].includes(k)) continue;
                            out[k] = Array.isArray(v) ? v.join(", ") : v;
                        }
                        resolve({status: res.statusCode ?? 502, headers: out, body: Buffer.concat(chunks)});
                    });
                    res.on("error", reject);
                },
            );
            up.on("error", reject);
            up.end(body);
        });

    const handle = async (req: IncomingMessage, res: ServerResponse) => {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        const body = Buffer.concat(chunks);
        counts.requests++;
        const fault = choose();
        switch (fault) {
            case "dropBefore":
                counts.droppedBefore++;
                req.socket.destroy();
                return;
            case "error":
                counts.errors++;
                res.writeHead(500, {"content-type": "application/json"});
                res.end(JSON.stringify({error: {message: "injected fault", type: "fault_proxy", code: 500}}));
                return;
            case "stall": {
                counts.stalls++;
                const timer = setTimeout(() => {
                    timers.delete(timer);
                    req.socket.destroy();
                }, stallMs);
                timers.add(timer);
                return;
            }
        }
        let answer;
        try {
            answer = await forward(req, body);
        } catch (e) {
            res.writeHead(502, {"content-type": "application/json"});
            res.end(JSON.stringify({error: {message: `fault proxy: upstream failed: ${(e as Error).message}`}}));
            return;
        }
        if (fault === "dropAfter") {
            counts.droppedAfter++;
            req.socket.destroy();
            return;
        }
        counts.forwarded++;
        res.writeHead(answer.status, {...answer.headers, "content-length": String(answer.body.length)});
        res.end(answer.body);
    };

    const server = createServer((req, res) => {
        handle(req, res).catch(() => req.socket.destroy());
    });
    server.on("connection", (socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (address === null || typeof address === "string") throw new StepwiseError("fault proxy: could not read its listening port");

    return {
        url: `http://127.0.0.1:${address.port}`,
        stats: () => ({...counts}),
        close: () =>
            new Promise<void>((resolve) => {
                for (const t of timers) clearTimeout(t);
                timers.clear();
                for (const s of sockets) s.destroy();
                server.close(() => resolve());
            }),
    };
}
