// Installs what the code domain's sandbox needs on a fresh machine: bubblewrap (bwrap), python3,
// util-linux's setpriv (drops root inside the sandbox) and python3-sortedcontainers (imported by
// the LeetCodeDataset preamble). Uses apt-get when running as root on Debian/Ubuntu; otherwise
// prints what is missing and how to install it (the code tests then skip with that reason).
// Run by scripts/ensure-deps.mjs before `npm test` and `npm run demo`; quiet when all is present.
import {existsSync} from "node:fs";
import {spawnSync} from "node:child_process";

const onPath = (name) => (process.env.PATH ?? "/usr/bin:/bin").split(":").some((d) => d && existsSync(`${d}/${name}`));
const pythonHas = (module) => spawnSync("/usr/bin/python3", ["-I", "-c", `import ${module}`], {stdio: "ignore"}).status === 0;

const missing = [];
if (!onPath("bwrap")) missing.push("bubblewrap");
if (!existsSync("/usr/bin/python3")) missing.push("python3", "python3-sortedcontainers");
else if (!pythonHas("sortedcontainers")) missing.push("python3-sortedcontainers");
if (process.getuid?.() === 0 && !onPath("setpriv")) missing.push("util-linux");

if (missing.length > 0) {
    const canApt = process.platform === "linux" && process.getuid?.() === 0 && onPath("apt-get");
    if (!canApt) {
        console.error(`[stepwise] the code sandbox needs: ${missing.join(" ")} (e.g. sudo apt-get install ${missing.join(" ")}); code tests will skip without it`);
    } else {
        console.error(`[stepwise] installing the code sandbox's packages: ${missing.join(" ")} ...`);
        const env = {...process.env, DEBIAN_FRONTEND: "noninteractive"};
        let r = spawnSync("apt-get", ["install", "-y", "-q", "--no-install-recommends", ...missing], {stdio: "inherit", env});
        if (r.status !== 0) {
            spawnSync("apt-get", ["update", "-q"], {stdio: "inherit", env});
            r = spawnSync("apt-get", ["install", "-y", "-q", "--no-install-recommends", ...missing], {stdio: "inherit", env});
        }
        if (r.status !== 0) console.error(`[stepwise] apt-get could not install ${missing.join(" ")}; the code sandbox will be unavailable`);
    }
}
