/**
 * Checking that a server can listen on a host and port before a model is loaded: a port in use,
 * an address that is not this machine's, an unknown host name or a privileged port give a
 * one-line error naming the address, in milliseconds rather than after the model loaded.
 */
import {createServer} from "node:net";
import {StepwiseError, systemErrorMessage} from "../util/errors.ts";

/** Listen on host:port once and close again; throws a StepwiseError naming the address. Port 0 always passes the port check. */
export async function checkCanListen(host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
        const server = createServer();
        server.once("error", (e: NodeJS.ErrnoException & {hostname?: string}) => {
            const shown = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
            if (e.code === "ENOTFOUND" || e.code === "EAI_AGAIN" || e.code === "EAI_NONAME")
                reject(new StepwiseError(`--host ${host}: unknown host name (give an address of this machine, e.g. 127.0.0.1 or 0.0.0.0)`));
            else reject(new StepwiseError(systemErrorMessage(Object.assign(e, {address: host.includes(":") ? `[${host}]` : host, port}), shown)!, {cause: e}));
        });
        server.listen({host, port, exclusive: true}, () => server.close(() => resolve()));
    });
}
