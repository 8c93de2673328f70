/** The running viewer answers only requests addressed to it: another Host (DNS rebinding) is 403. */
import {test, after} from "node:test";
import assert from "node:assert/strict";
import {request} from "node:http";
import {ViewStore, startViewer} from "../../../src/apps/view/index.ts";
import {writeFixture} from "../../helpers/view-fixture.ts";

const fx = writeFixture();
after(() => fx.cleanup());

function get(port: number, path: string, host: string): Promise<{status: number; body: string}> {
    return new Promise((resolve, reject) => {
        const req = request({host: "127.0.0.1", port, path, headers: {host}}, (res) => {
            let body = "";
            res.on("data", (c) => (body += c));
            res.on("end", () => resolve({status: res.statusCode ?? 0, body}));
        });
        req.on("error", reject);
        req.end();
    });
}

test("view checks the Host header against the address it is bound to", async () => {
    const viewer = await startViewer(await ViewStore.open([fx.files.samples]), {port: 0});
    try {
        const port = Number(new URL(viewer.url).port);
        for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]) {
            assert.equal((await get(port, "/", host)).status, 200, host);
            assert.equal((await get(port, "/api/entry?key=q1%230", host)).status, 200, host);
        }
        for (const host of [`rebind.evil.example:${port}`, "rebind.evil.example", `localhost:${port + 1}`]) {
            for (const path of ["/", "/api/meta", "/api/entry?key=q1%230"]) {
                const r = await get(port, path, host);
                assert.equal(r.status, 403, `${host} ${path}`);
                assert.match(JSON.parse(r.body).error.message, /is not the viewer's address/);
            }
        }
        // The URL it prints works as is (fetch sends its own Host).
        assert.equal((await fetch(`${viewer.url}api/meta`)).status, 200);
    } finally {
        await viewer.close();
    }
});
