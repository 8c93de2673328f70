/**
 * One-time setup of TensorFlow.js on the single-threaded WebAssembly backend.
 *
 * stepwise depends on @tensorflow/tfjs-core and @tensorflow/tfjs-backend-wasm only (not the
 * @tensorflow/tfjs umbrella, which adds layers, converter, data and webgl: 286 MB installed vs
 * 65 MB). tfjs-core's Node build registers no gradients; the umbrella does it by importing
 * `register_all_gradients`; stepwise bundles that module at build time into
 * vendor/tfjs-gradients.js (scripts/vendor-gradients.mjs) and imports it here.
 */
import * as tf from "@tensorflow/tfjs-core";
import "../../vendor/tfjs-gradients.js";
import {setThreadsCount} from "@tensorflow/tfjs-backend-wasm";

let ready: Promise<typeof tf> | undefined;

/**
 * Select the wasm backend with one thread (training must use one core only) and return the tf
 * namespace. Safe to call many times.
 */
export function initTf(): Promise<typeof tf> {
    ready ??= (async () => {
        setThreadsCount(1);
        if (!(await tf.setBackend("wasm"))) throw new Error("tfjs: the wasm backend failed to initialize");
        await tf.ready();
        return tf;
    })();
    return ready;
}
