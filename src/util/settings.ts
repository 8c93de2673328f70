/**
 * Settings as flat JSON objects, and how two of them differ: the one comparison behind every
 * refused resume (a stage's `<out>.settings.json`, src/core/stage.ts; a training checkpoint's
 * shape, schedule and settings, src/train/index.ts), so both name a difference the same way,
 * `key: before → now`.
 */

/** A settings value: JSON scalars and arrays of them. */
export type SettingValue = string | number | boolean | null | SettingValue[] | {[k: string]: SettingValue};
export type Settings = Record<string, SettingValue>;

/** Stable JSON (sorted keys) of a settings object. */
export function canonicalJson(v: unknown): string {
    if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
    if (v && typeof v === "object")
        return `{${Object.keys(v)
            .sort()
            .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
            .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
            .join(",")}}`;
    return JSON.stringify(v ?? null);
}

/** The settings that differ between `before` and `now`, as "key: before → now" strings. */
export function diffSettings(before: Settings, now: Settings): string[] {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(now)])].sort();
    const show = (v: SettingValue | undefined) => (v === undefined ? "(not set)" : typeof v === "string" ? JSON.stringify(v) : canonicalJson(v));
    return keys.filter((k) => canonicalJson(before[k]) !== canonicalJson(now[k])).map((k) => `${k}: ${show(before[k])} → ${show(now[k])}`);
}

