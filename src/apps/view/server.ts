/**
 * `stepwise view`'s HTTP server (Hono on Node, 127.0.0.1 by default). It serves the page and a
 * small JSON API over the files it was given, addressed by entry key only: no route takes a path,
 * so nothing outside those files can be read. Unknown routes answer 404 with a JSON error.
 *
 * Routes: `GET /` the page; `GET /api/meta`; `GET /api/list?offset&limit&q&filter&low`;
 * `GET /api/entry?key`; `GET /api/question?qid`.
 *
 * Served by {@link startViewer}, every request must carry a `Host` header naming the address the
 * viewer listens on (io/host-check.ts): anything else (DNS rebinding) answers 403. Before each API
 * request the store re-indexes files that changed on disk (ViewStore.refresh); a file that
 * cannot be re-indexed (now malformed, removed) answers 409 naming it.
 */
import type {AddressInfo} from "node:net";
import {Hono} from "hono";
import {serve as serveNode} from "@hono/node-server";
import {StepwiseError} from "../../util/errors.ts";
import {isAllowedHost} from "../../io/host-check.ts";
import {entryView, questionView} from "./entry.ts";
import {viewerPage} from "./page.ts";
import type {ViewStore} from "./store.ts";

/** Data the page needs once: the files and the τ to start the slider at. */
export function viewerMeta(store: ViewStore, tau?: number) {
    return {files: store.files.map(({index, name, records, kinds}) => ({index, name, records, kinds})), entries: store.size, tau: tau ?? null};
}

/**
 * The Hono app over a store (exported for tests and for embedding in another server).
 * @param options.allowHost  when given, requests whose `Host` header it refuses answer 403
 *   (startViewer passes the check against its bound address).
 */
export function createViewerApp(store: ViewStore, options: {tau?: number; allowHost?: (hostHeader: string | undefined) => boolean} = {}): Hono {
    const app = new Hono();
    const page = viewerPage("server");
    const TYPES = {400: "invalid_request", 403: "forbidden", 404: "not_found", 409: "conflict"} as const;
    const error = (message: string, status: keyof typeof TYPES) => ({error: {message, type: TYPES[status], code: status}});
    if (options.allowHost) {
        const allow = options.allowHost;
        app.use("*", async (c, next) => {
            const host = c.req.header("host");
            if (!allow(host)) return c.json(error(`Host ${JSON.stringify((host ?? "").slice(0, 200))} is not the viewer's address: open the URL the viewer printed (requests for other host names are refused against DNS rebinding)`, 403), 403);
            await next();
        });
    }
    app.use("/api/*", async (c, next) => {
        try {
            await store.refresh();
        } catch (e) {
            if (e instanceof StepwiseError) return c.json(error(e.message, 409), 409);
            throw e;
        }
        await next();
    });
    app.get("/", (c) => c.html(page));
    app.get("/api/meta", (c) => c.json(viewerMeta(store, options.tau)));
    app.get("/api/list", (c) => {
        const n = (name: string) => {
            const v = c.req.query(name);
            return v === undefined || v === "" ? undefined : Number(v);
        };
        for (const name of ["offset", "limit", "low"]) {
            const v = n(name);
            if (v !== undefined && !Number.isFinite(v)) return c.json(error(`${name} must be a number`, 400), 400);
        }
        try {
            return c.json(store.list({offset: n("offset"), limit: n("limit"), q: c.req.query("q"), filter: c.req.query("filter"), low: n("low")}));
        } catch (e) {
            if (e instanceof StepwiseError) return c.json(error(e.message, 400), 400);
            throw e;
        }
    });
    app.get("/api/entry", (c) => {
        const key = c.req.query("key") ?? "";
        const view = entryView(store, key);
        return view ? c.json(view) : c.json(error(`no entry "${key.slice(0, 200)}" in the given files`, 404), 404);
    });
    app.get("/api/question", (c) => {
        const qid = c.req.query("qid") ?? "";
        if (store.questionKeys(qid).length === 0) return c.json(error(`no question "${qid.slice(0, 200)}" in the given files`, 404), 404);
        return c.json(questionView(store, qid));
    });
    app.notFound((c) => c.json(error(`no route ${c.req.method} ${c.req.path.slice(0, 200)} (the viewer serves only / and /api/*)`, 404), 404));
    // A StepwiseError here comes from reading the files (one changed between the refresh and the read).
    app.onError((e, c) => (e instanceof StepwiseError ? c.json(error(e.message, 409), 409) : c.json({error: {message: (e as Error).message, type: "internal", code: 500}}, 500)));
    return app;
}

export interface RunningViewer {
    url: string;
    close(): Promise<void>;
}

/**
 * Serve the viewer. Resolves once it listens. Only requests whose `Host` header names the bound
 * address (or localhost, 127.0.0.1, [::1]) with the bound port are answered; others get 403.
 * @throws StepwiseError when the address is in use or cannot be bound.
 */
export function startViewer(store: ViewStore, options: {host?: string; port?: number; tau?: number} = {}): Promise<RunningViewer> {
    const host = options.host ?? "127.0.0.1";
    const port = options.port ?? 0;
    // The port is known once listening (port 0 = any); until then every request is refused.
    let boundPort: number | undefined;
    const app = createViewerApp(store, {tau: options.tau, allowHost: (h) => boundPort !== undefined && isAllowedHost(h, host, boundPort)});
    return new Promise((resolve, reject) => {
        const server = serveNode({fetch: app.fetch, hostname: host, port}, (info: AddressInfo) => {
            boundPort = info.port;
            const shownHost = info.address.includes(":") ? `[${info.address}]` : info.address;
            resolve({url: `http://${shownHost}:${info.port}/`, close: () => new Promise<void>((res) => server.close(() => res()))});
        });
        server.on("error", (e: NodeJS.ErrnoException) => {
            if (e.code === "EADDRINUSE") reject(new StepwiseError(`view: ${host}:${port} is already in use (choose another --port, or 0 for any free port)`));
            else if (e.code === "EADDRNOTAVAIL" || e.code === "ENOTFOUND" || e.code === "EAI_AGAIN") reject(new StepwiseError(`view: cannot bind ${host}:${port} (${e.code}): not an address of this machine`));
            else if (e.code === "EACCES") reject(new StepwiseError(`view: no permission to bind ${host}:${port} (ports below 1024 need root)`));
            else reject(e);
        });
    });
}
