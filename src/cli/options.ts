/** The CLI's one set of option parsers (commander argParsers): numbers that name the flag when they are wrong. */
import {InvalidArgumentError} from "commander";

export function intOption(min = 0, max = Number.MAX_SAFE_INTEGER) {
    return (value: string): number => {
        const n = Number(value);
        if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}, got "${value}"`);
        return n;
    };
}

export function floatOption(min = -Infinity, max = Infinity) {
    return (value: string): number => {
        const n = Number(value);
        if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`expected a number from ${min} to ${max}, got "${value}"`);
        return n;
    };
}

/** Repeatable string option (`--stop a --stop b`). */
export function collect(value: string, previous: string[] = []): string[] {
    return [...previous, value];
}

/** Interpret backslash escapes typed on a command line (`\n`, `\t`). */
export function unescape(s: string): string {
    return s.replace(/\\n/g, "\n").replace(/\\t/g, "\t");
}

/** A number > 0 (durations, learning rates). */
export function positiveOption() {
    return (value: string): number => {
        const n = Number(value);
        if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number > 0, got "${value}"`);
        return n;
    };
}
