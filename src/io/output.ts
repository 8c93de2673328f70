/**
 * Checking an output location before any work starts (and before a model is loaded), so a run
 * never fails at its first write, and never overwrites its own input:
 * - the output is not a folder and not a special file;
 * - its parent folders exist (they are created, like `mkdir -p`);
 * - the folder (and an existing file) can be written: read-only file systems and permissions
 *   are reported at once;
 * - it is not the same file as any input (same path, hard link or symbolic link to it).
 */
import {accessSync, constants, lstatSync, mkdirSync, readlinkSync, realpathSync, statSync, type Stats} from "node:fs";
import {basename, dirname, join, resolve} from "node:path";
import {StepwiseError, fsError} from "../util/errors.ts";

export interface OutputCheck {
    /** Input files of the same command: the output must not be any of them. */
    inputs?: ReadonlyArray<string | undefined>;
    /** The flag that names the output, for messages. Default "--out". */
    flag?: string;
    /** The output is a folder (a report folder) rather than a file. */
    folder?: boolean;
    /** Accept a character device (/dev/null, /dev/stdout) as the output: for outputs written once, never read back. */
    allowDevice?: boolean;
}

function statOrUndefined(path: string): Stats | undefined {
    try {
        return statSync(path);
    } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === "ENOENT") return undefined;
        throw fsError(e, path);
    }
}

/**
 * The real path of a file that may not exist yet: symbolic links resolved (also a link to a file
 * not yet created, and links in its folders), so every name of one file gives one path. Used to
 * key locks and settings files by the file, not by the name it was reached through.
 */
export function realPathOf(file: string): string {
    let p = resolve(file);
    for (let hops = 0; hops < 40; hops++) {
        try {
            return realpathSync(p);
        } catch {
            /* missing: resolve what exists below */
        }
        let target: string | undefined;
        try {
            if (lstatSync(p).isSymbolicLink()) target = readlinkSync(p);
        } catch {
            /* p itself does not exist */
        }
        if (target === undefined) {
            let dir: string;
            try {
                dir = realpathSync(dirname(p));
            } catch {
                return p;
            }
            return join(dir, basename(p));
        }
        p = resolve(dirname(p), target);
    }
    return p;
}

/** Same file: same device and inode (hard links, symbolic links), or the same resolved path. */
export function sameFile(a: string, b: string): boolean {
    if (resolve(a) === resolve(b)) return true;
    const sa = statOrUndefined(a);
    const sb = statOrUndefined(b);
    return !!sa && !!sb && sa.dev === sb.dev && sa.ino === sb.ino;
}

/** Throw a StepwiseError when `out` is the same file as one of `inputs`. */
export function refuseInputAsOutput(out: string, inputs: ReadonlyArray<string | undefined>, flag = "--out"): void {
    for (const input of inputs)
        if (input !== undefined && sameFile(out, input))
            throw new StepwiseError(`${flag} ${out} is the input file ${input}: writing it would destroy the input; choose another ${flag}`);
}

/** Create a folder and its parents; errors name the folder. */
export function ensureFolder(folder: string): void {
    const st = statOrUndefined(folder);
    if (st?.isDirectory()) return;
    if (st) throw new StepwiseError(`${folder}: is a file, not a folder`);
    try {
        mkdirSync(folder, {recursive: true});
    } catch (e) {
        // A recursive mkdir reports ENOENT on a read-only file system: name the real cause, found
        // on the nearest folder that exists.
        let up = dirname(resolve(folder));
        while (up !== dirname(up) && !statOrUndefined(up)) up = dirname(up);
        try {
            accessSync(up, constants.W_OK);
        } catch (cause) {
            throw fsError(cause, folder, "cannot create the folder");
        }
        throw fsError(e, folder, "cannot create the folder");
    }
}

function checkWritable(path: string, what: string): void {
    try {
        accessSync(path, constants.W_OK);
    } catch (e) {
        throw fsError(e, path, `cannot write ${what}`);
    }
}

/**
 * Check (and prepare) an output location; see the module docs. Throws a one-line StepwiseError
 * naming the flag and path. Creates missing parent folders (and the folder itself with `folder`).
 */
export function prepareOutput(out: string, o: OutputCheck = {}): void {
    const flag = o.flag ?? "--out";
    if (!out) throw new StepwiseError(`${flag}: empty path`);
    refuseInputAsOutput(out, o.inputs ?? [], flag);
    if (o.folder) {
        ensureFolder(out);
        checkWritable(out, "into this folder");
        return;
    }
    const st = statOrUndefined(out);
    if (st?.isDirectory()) throw new StepwiseError(`${flag} ${out}: is a folder; give a file name (e.g. ${out.replace(/\/+$/, "")}/out.jsonl)`);
    if (st?.isCharacterDevice() && o.allowDevice) return;
    if (st && !st.isFile()) throw new StepwiseError(`${flag} ${out}: is not a regular file${o.allowDevice ? "" : " (a resumable output is read back)"}`);
    const parent = dirname(out);
    ensureFolder(parent);
    checkWritable(parent, "into this folder");
    if (st) checkWritable(out, "this file");
}
