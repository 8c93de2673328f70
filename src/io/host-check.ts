/**
 * DNS-rebinding protection for stepwise's local HTTP servers (`stepwise serve`, the viewer): a
 * page on evil.example whose name is re-pointed at 127.0.0.1 can make the browser send requests
 * to a loopback server, but the browser still sends `Host: evil.example`. Servers answer only
 * requests whose Host names the address they are bound to.
 */
import {isIP} from "node:net";
import {hostname as machineName} from "node:os";

const isLoopbackName = (h: string) => h === "localhost" || h.endsWith(".localhost");
const isLoopbackIp = (h: string) => (isIP(h) === 4 && h.startsWith("127.")) || h === "::1";
const isWildcard = (h: string) => h === "0.0.0.0" || h === "::" || h === "";

/** "name:port", "[v6]:port", "name" → {name (lowercase, no brackets or trailing dot), port (undefined when absent)}; undefined when malformed. */
function splitHost(value: string): {name: string; port?: number} | undefined {
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s/@]+))(?::(\d{1,5}))?$/.exec(value.trim());
    if (!m) return undefined;
    const name = (m[1] ?? m[2]).toLowerCase().replace(/\.$/, "");
    return {name, port: m[3] !== undefined ? Number(m[3]) : undefined};
}

/**
 * Whether a request's `Host` header may reach a server bound to `boundHost`:`port`.
 *
 * - The port, when the header gives one, must be `port`.
 * - Bound to a loopback address or name (127.0.0.0/8, ::1, localhost): only loopback names and
 *   addresses (`localhost`, `*.localhost`, 127.x.x.x, [::1]).
 * - Bound to one other address or name: that address or name, and the loopback ones.
 * - Bound to every interface (0.0.0.0, ::): any IP address (a rebinding attack needs a domain
 *   name), loopback names and this machine's host name.
 *
 * A missing header (HTTP/1.0 clients; browsers always send one) is allowed; a malformed one is not.
 */
export function isAllowedHost(hostHeader: string | undefined, boundHost: string, port: number): boolean {
    if (hostHeader === undefined) return true;
    const h = splitHost(hostHeader);
    if (!h) return false;
    if (h.port !== undefined && h.port !== port) return false;
    const bound = boundHost.toLowerCase().replace(/^\[|\]$/g, "");
    if (isLoopbackName(h.name) || isLoopbackIp(h.name)) return true;
    if (isWildcard(bound)) return isIP(h.name) !== 0 || h.name === machineName().toLowerCase();
    if (isLoopbackName(bound) || isLoopbackIp(bound)) return false;
    return h.name === bound;
}
