/**
 * `npm run bench -- startup [--rounds=N]`: CLI start-up cost as ratios to `node -e 0` measured in
 * the same run (rounds interleaved, medians), and the install size.
 *
 * Commands: `stepwise --help` (target ≤ 4× node -e 0), `import "stepwise"` of the built root
 * (target ≤ 0.4 s: no training, plotting, computer-algebra, Markdown or POS package at import), `stepwise grade` on one case (a numeric
 * answer, and a symbolic one that loads the computer-algebra engine), and, for comparison, the old
 * start-up that ran the TypeScript sources through tsx. Wall time and, where /usr/bin/time exists,
 * CPU time (user + sys) of each child: on a shared machine CPU time is the steadier figure.
 * Install size: the production dependency tree of this checkout (`npm ls --omit=dev`), the
 * node-llama-cpp GPU binaries in it, and the whole node_modules (dev tools included).
 */
import {spawnSync} from "node:child_process";
import {existsSync} from "node:fs";

const root = new URL("..", import.meta.url).pathname;
const bin = `${root}bin/stepwise.mjs`;

function measure(args: string[]): {wall: number; cpu: number | null} {
    const timer = existsSync("/usr/bin/time");
    const t0 = performance.now();
    const r = timer
        ? spawnSync("/usr/bin/time", ["-f", "%U %S", process.execPath, ...args], {cwd: root, encoding: "utf8"})
        : spawnSync(process.execPath, args, {cwd: root, encoding: "utf8"});
    const wall = (performance.now() - t0) / 1000;
    if (r.status !== 0) throw new Error(`node ${args.join(" ")} failed: ${r.stderr}`);
    const times = timer ? /(\d+\.\d+) (\d+\.\d+)\s*$/.exec(r.stderr) : null;
    return {wall, cpu: times ? Number(times[1]) + Number(times[2]) : null};
}

const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function duKiB(paths: string[]): number {
    if (!paths.length) return 0;
    const r = spawnSync("du", ["-skc", ...paths], {encoding: "utf8", maxBuffer: 64 << 20});
    return Number(/(\d+)\s+total\s*$/.exec(r.stdout)?.[1] ?? NaN);
}

export default async function bench(flags: string[]): Promise<void> {
    const rounds = Number(flags.find((f) => f.startsWith("--rounds="))?.split("=")[1] ?? 7);
    const built = spawnSync(process.execPath, [`${root}scripts/ensure-deps.mjs`, "--build-only"], {cwd: root, stdio: "inherit"});
    if (built.status !== 0) throw new Error("cannot build dist/");
    const cases: Record<string, string[]> = {
        "node -e 0": ["-e", "0"],
        "stepwise --help": [bin, "--help"],
        'import "stepwise"': ["--input-type=module", "-e", `await import(${JSON.stringify(`${root}dist/index.js`)})`],
        "stepwise grade (numeric)": [bin, "grade", "--gold", "\\frac12", "--pred", "so the answer is $0.5$"],
        "stepwise grade (symbolic)": [bin, "grade", "--gold", "\\prod_{k=1}^{4} k", "--pred", "24"], // the fast path cannot read \prod
        "tsx src/cli/main.ts --help (before)": ["--import", "tsx", `${root}src/cli/main.ts`, "--help"],
    };
    const runs: Record<string, Array<{wall: number; cpu: number | null}>> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
    for (const args of Object.values(cases)) measure(args); // warm the file cache
    for (let r = 0; r < rounds; r++) for (const [name, args] of Object.entries(cases)) runs[name].push(measure(args));
    const base = runs["node -e 0"];
    const baseWall = median(base.map((x) => x.wall));
    const baseCpu = base.every((x) => x.cpu !== null) ? median(base.map((x) => x.cpu!)) : null;
    for (const [name, xs] of Object.entries(runs)) {
        const wall = median(xs.map((x) => x.wall));
        const cpu = xs.every((x) => x.cpu !== null) ? median(xs.map((x) => x.cpu!)) : null;
        console.log(
            JSON.stringify({
                name: "startup",
                command: name,
                rounds,
                wall_s: +wall.toFixed(3),
                wall_ratio: +(wall / baseWall).toFixed(2),
                cpu_s: cpu === null ? null : +cpu.toFixed(3),
                cpu_ratio: cpu === null || !baseCpu ? null : +(cpu / baseCpu).toFixed(2),
                ...(name === "stepwise --help" ? {target_ratio: 4} : {}),
                ...(name === 'import "stepwise"' ? {target_wall_s: 0.4} : {}),
            }),
        );
    }
    const ls = spawnSync("npm", ["ls", "--all", "--omit=dev", "--parseable"], {cwd: root, encoding: "utf8", maxBuffer: 64 << 20});
    const prod = ls.stdout.split("\n").filter((p) => p.includes("/node_modules/"));
    const gpu = prod.filter((p) => /@node-llama-cpp\/[^/]*(cuda|vulkan)/.test(p));
    const mib = (kib: number) => +(kib / 1024).toFixed(0);
    console.log(
        JSON.stringify({
            name: "startup",
            install: {
                production_mib: mib(duKiB(prod)),
                production_without_gpu_binaries_mib: mib(duKiB(prod.filter((p) => !gpu.includes(p)))),
                gpu_binaries_mib: mib(duKiB(gpu)),
                tensorflow_mib: mib(duKiB(prod.filter((p) => /\/@tensorflow\/[^/]+$/.test(p)))),
                node_modules_with_dev_mib: mib(duKiB([`${root}node_modules`])),
            },
        }),
    );
}
