/**
 * Adam(W) on tfjs variables, with its state (moments, step count) exposed as plain arrays so a
 * checkpoint can save and restore it exactly.
 */
import * as tf from "@tensorflow/tfjs-core";

export interface AdamOptions {
    beta1?: number;
    beta2?: number;
    eps?: number;
    /** Decoupled weight decay, applied to matrices only (not norms). Default 0. */
    weightDecay?: number;
}

export class Adam {
    readonly m = new Map<string, tf.Variable>();
    readonly v = new Map<string, tf.Variable>();
    /** Number of updates applied so far. */
    t = 0;
    private readonly beta1: number;
    private readonly beta2: number;
    private readonly eps: number;
    private readonly weightDecay: number;

    constructor(private readonly vars: Map<string, tf.Variable>, options: AdamOptions = {}) {
        this.beta1 = options.beta1 ?? 0.9;
        this.beta2 = options.beta2 ?? 0.99;
        this.eps = options.eps ?? 1e-8;
        this.weightDecay = options.weightDecay ?? 0;
        for (const [name, variable] of vars) {
            this.m.set(name, tf.variable(tf.zerosLike(variable), false));
            this.v.set(name, tf.variable(tf.zerosLike(variable), false));
        }
    }

    /** One update with learning rate `lr`; gradients are multiplied by `gradScale` first (clipping). */
    apply(grads: Record<string, tf.Tensor>, lr: number, gradScale = 1): void {
        this.t++;
        const {beta1: b1, beta2: b2, eps} = this;
        const stepSize = (lr * Math.sqrt(1 - Math.pow(b2, this.t))) / (1 - Math.pow(b1, this.t));
        tf.tidy(() => {
            for (const [name, variable] of this.vars) {
                // tf.variableGrads keys gradients by the tfjs variable name (which may carry a prefix, see TfLlama).
                const g0 = grads[variable.name];
                if (!g0) continue;
                const g = gradScale === 1 ? g0 : tf.mul(g0, gradScale);
                const m = this.m.get(name)!;
                const v = this.v.get(name)!;
                m.assign(tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)));
                v.assign(tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2)));
                let next = tf.sub(variable, tf.mul(tf.div(m, tf.add(tf.sqrt(v), eps)), stepSize));
                if (this.weightDecay > 0 && variable.rank === 2 && !name.startsWith("token_embd")) next = tf.sub(next, tf.mul(variable, lr * this.weightDecay));
                variable.assign(next);
            }
        });
    }

    dispose(): void {
        for (const x of [...this.m.values(), ...this.v.values()]) x.dispose();
    }
}
