/**
 * A pool of context sequences. Callers ask for up to `count` sequences for a prompt and get the
 * free ones whose cached tokens share the longest prefix with it (so KV caches are reused), or
 * wait until one is released.
 *
 * Fair: waiters are served first come, first served, and a released sequence goes straight to the
 * oldest waiter (a caller that releases and asks again queues behind it). A long request (a large
 * `n`) shares the pool by handing a sequence over whenever {@link waitingBesides} says another
 * caller waits, then queueing again (see LlamaEngine.generate): a small request waits for one
 * sample of the long one, not for all of them.
 */
import type {LlamaContextSequence, Token} from "node-llama-cpp";

interface Waiter {
    count: number;
    prompt: number[];
    owner: unknown;
    resolve(sequences: LlamaContextSequence[]): void;
}

export class SequencePool {
    private readonly free: LlamaContextSequence[];
    private readonly waiters: Waiter[] = [];

    constructor(sequences: LlamaContextSequence[]) {
        this.free = [...sequences];
        this.size = sequences.length;
    }

    readonly size: number;

    /**
     * Resolve with between 1 and `count` sequences, best prefix match first: at once when some are
     * free and nobody waits, else in turn. `owner` identifies the caller for {@link waitingBesides}.
     * Rejects with the signal's reason when it aborts first.
     */
    async acquire(count: number, prompt: number[], signal?: AbortSignal, owner?: unknown): Promise<LlamaContextSequence[]> {
        if (signal?.aborted) throw signal.reason;
        if (this.free.length > 0 && this.waiters.length === 0) return this.take(count, prompt);
        return new Promise<LlamaContextSequence[]>((resolve, reject) => {
            const onAbort = () => {
                const at = this.waiters.indexOf(waiter);
                if (at >= 0) this.waiters.splice(at, 1);
                reject(signal!.reason);
            };
            const waiter: Waiter = {
                count,
                prompt,
                owner,
                resolve: (sequences) => {
                    signal?.removeEventListener("abort", onAbort);
                    resolve(sequences);
                },
            };
            this.waiters.push(waiter);
            signal?.addEventListener("abort", onAbort, {once: true});
        });
    }

    /** Whether a caller other than `owner` waits for a sequence. */
    waitingBesides(owner: unknown): boolean {
        return this.waiters.some((w) => w.owner !== owner);
    }

    release(sequences: LlamaContextSequence[]): void {
        this.free.push(...sequences);
        while (this.waiters.length > 0 && this.free.length > 0) {
            const w = this.waiters.shift()!;
            w.resolve(this.take(w.count, w.prompt));
        }
    }

    private take(count: number, prompt: number[]): LlamaContextSequence[] {
        const scored = this.free
            .map((seq) => ({seq, common: seq.compareContextTokens(prompt as Token[]).firstDifferentIndex}))
            .sort((a, b) => b.common - a.common);
        const chosen = scored.slice(0, Math.max(1, count)).map((s) => s.seq);
        for (const seq of chosen) this.free.splice(this.free.indexOf(seq), 1);
        return chosen;
    }
}
