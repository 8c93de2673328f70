/**
 * The tests' engine wrapper (spies, fault injection): an engine that forwards every member to
 * `target` (methods bound to it) except the ones in `overrides`. It has exactly the target's
 * facets: `"pool" in wrapper` and `wrapper.pool` follow the target, and an override of a member
 * the target does not have is refused (a TypeError), so a wrapper never adds a facet.
 */
import type {Engine} from "../../src/engines/types.ts";

export function wrapEngine<E extends Engine>(target: E, overrides: Partial<Engine>): E {
    for (const key of Object.keys(overrides))
        if (!(key in target)) throw new TypeError(`wrapEngine: the wrapped engine has no ${key}; a wrapper must not add it`);
    return new Proxy(target, {
        get(t, key) {
            if (Object.hasOwn(overrides, key)) return Reflect.get(overrides, key);
            const v = Reflect.get(t, key);
            return typeof v === "function" ? v.bind(t) : v;
        },
    });
}
