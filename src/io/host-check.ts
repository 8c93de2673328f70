/**
 * The Host-header check of a local HTTP server against DNS rebinding: a web page on an attacker's
 * domain that re-points its name at 127.0.0.1 reaches a loopback server from the victim's
 * browser, but its requests still carry `Host: attacker.example`. A server that answers only
 * requests addressed to its own address (403 otherwise) is out of that page's reach.
 */
import {isIP} from "node:net";
import {hostname} from "node:os";

const LOOPBACK = new Set(["localhost", "127.0.0.1", "::1"]);
const WILDCARD = new Set(["", "0.0.0.0", "::", "0:0:0:0:0:0:0:0"]);

/** A host name or address, lower-cased, without IPv6 brackets or a trailing dot. */
function normalHost(host: string): string {
    let h = host.trim().toLowerCase();
    if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
    return h.endsWith(".") ? h.slice(0, -1) : h;
}

/** `host[:port]` or `[v6][:port]` split into a normalised name and a port (80 when absent); undefined when malformed. */
export function parseHostHeader(header: string): {name: string; port: number} | undefined {
    const h = header.trim().toLowerCase();
    const m = /^\[([0-9a-f:.]+)\](?::(\d{1,5}))?$/.exec(h) ?? /^([^:\s/@[\]]+)(?::(\d{1,5}))?$/.exec(h);
    if (!m) return undefined;
    return {name: normalHost(m[1]), port: m[2] === undefined ? 80 : Number(m[2])};
}

/**
 * Whether a request's `Host` header addresses a server bound to `boundHost`:`port`.
 *
 * Accepted names, always with exactly `port` (a header without a port means 80):
 * - `localhost`, `127.0.0.1` and `[::1]`;
 * - `boundHost` itself (an address or a name given to `--host`), compared case-insensitively;
 * - when bound to every interface (`0.0.0.0`, `::`, ``): also any IP address literal (an IP
 *   literal cannot be re-pointed by DNS) and this machine's host name (`os.hostname()`).
 * Anything else, a missing or malformed header included, is refused (false).
 */
export function isAllowedHost(hostHeader: string | undefined, boundHost: string, port: number): boolean {
    if (!hostHeader) return false;
    const parsed = parseHostHeader(hostHeader);
    if (!parsed || parsed.port !== port) return false;
    const bound = normalHost(boundHost);
    if (LOOPBACK.has(parsed.name) || parsed.name === bound) return true;
    if (WILDCARD.has(bound)) return isIP(parsed.name) !== 0 || parsed.name === normalHost(hostname());
    return false;
}
