// Installs Debian's chromium for the viewer's browser tests (driven by playwright-core), when it is
// missing and this runs as root with apt-get (as on the project's CI machines). Never fails the
// caller: without a browser the browser tests skip with a printed reason.
import {existsSync} from "node:fs";
import {execSync} from "node:child_process";

export const CHROMIUM_PATHS = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

export function findChromium() {
    return process.env.STEPWISE_CHROMIUM ?? CHROMIUM_PATHS.find((p) => existsSync(p));
}

if (import.meta.url === `file://${process.argv[1]}` || process.env.STEPWISE_ENSURE_BROWSER === "1") {
    if (!findChromium() && process.getuid?.() === 0 && existsSync("/usr/bin/apt-get") && process.env.STEPWISE_NO_APT !== "1") {
        console.error("[stepwise] installing chromium for the viewer's browser tests (apt-get, about a minute) ...");
        try {
            execSync("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium", {stdio: ["ignore", "ignore", "inherit"]});
        } catch (e) {
            console.error(`[stepwise] could not install chromium (${e.message.split("\n")[0]}); browser tests will skip`);
        }
    }
}
