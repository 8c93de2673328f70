/**
 * A pool of context sequences. Callers ask for up to `count` sequences for a prompt and get the
 * free ones whose cached tokens share the longest prefix with it (so KV caches are reused), or
 * wait until one is released.
 */
import type {LlamaContextSequence, Token} from "node-llama-cpp";

export class SequencePool {
    private readonly free: LlamaContextSequence[];
    private readonly waiters: Array<() => void> = [];

    constructor(sequences: LlamaContextSequence[]) {
        this.free = [...sequences];
        this.size = sequences.length;
    }

    readonly size: number;

    /** Resolve with between 1 and `count` sequences, best prefix match first. */
    async acquire(count: number, prompt: number[], signal?: AbortSignal): Promise<LlamaContextSequence[]> {
        while (this.free.length === 0) {
            if (signal?.aborted) throw signal.reason;
            await new Promise<void>((resolve) => {
                const wake = () => {
                    signal?.removeEventListener("abort", onAbort);
                    resolve();
                };
                const onAbort = () => {
                    const at = this.waiters.indexOf(wake);
                    if (at >= 0) this.waiters.splice(at, 1);
                    resolve();
                };
                this.waiters.push(wake);
                signal?.addEventListener("abort", onAbort, {once: true});
            });
        }
        if (signal?.aborted) throw signal.reason;
        const scored = this.free
            .map((seq) => ({seq, common: seq.compareContextTokens(prompt as Token[]).firstDifferentIndex}))
            .sort((a, b) => b.common - a.common);
        const chosen = scored.slice(0, Math.max(1, count)).map((s) => s.seq);
        for (const seq of chosen) this.free.splice(this.free.indexOf(seq), 1);
        return chosen;
    }

    release(sequences: LlamaContextSequence[]): void {
        this.free.push(...sequences);
        for (let i = 0; i < sequences.length && this.waiters.length; i++) this.waiters.shift()!();
    }
}
